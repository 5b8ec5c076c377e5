package scaffold

import (
	"fmt"
	"slices"
	"strings"

	"github.com/slipway/slipway/internal/manifest"
)

// renderManifest renders slipway.yaml from s and reads it back as Slipway
// will (manifest.Parse, in dir, where the Dockerfile is): a file init
// writes is one Slipway accepts, with the values init meant.
func renderManifest(dir string, s Spec) ([]byte, error) {
	data, err := render("slipway.yaml.tmpl", s)
	if err != nil {
		return nil, err
	}
	m, err := manifest.Parse(manifest.FileName, data, dir)
	if err != nil {
		return nil, fmt.Errorf("init: the slipway.yaml init would write is not valid: %w", err)
	}
	if m.App != s.App || m.Port != s.Port || m.Health.Path != s.Health || !slices.Equal(m.Test.Command, s.Test) {
		return nil, fmt.Errorf("init: the slipway.yaml init would write reads back as app %q, port %d, health %q, test %q; want %q, %d, %q, %q",
			m.App, m.Port, m.Health.Path, m.Test.Command, s.App, s.Port, s.Health, s.Test)
	}
	return data, nil
}

// summary is one line per value of slipway.yaml and where it came from.
func (s Spec) summary() string {
	return strings.Join([]string{
		fmt.Sprintf("app %s, from %s", s.App, s.AppFrom),
		fmt.Sprintf("port %d, from %s", s.Port, s.PortFrom),
		fmt.Sprintf("health %s, from %s", s.Health, s.HealthFrom),
		fmt.Sprintf("test `%s`, from %s", strings.Join(s.Test, " "), s.TestFrom),
	}, "\n")
}

// Manifest returns the slipway.yaml init writes for the app in dir with
// o's flags, and what it was worked out from.
func Manifest(dir string, o Options) ([]byte, Spec, error) {
	s, err := Detect(dir, o)
	if err != nil {
		return nil, s, fmt.Errorf("init: %w", err)
	}
	data, err := renderManifest(dir, s)
	return data, s, err
}
