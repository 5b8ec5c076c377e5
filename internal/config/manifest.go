package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slipway/slipway/internal/manifest"
)

// Source is where a setting's value came from: a variable, a line of the
// manifest, or, when both are empty, the default.
type Source struct {
	Env  string // the variable that set it
	File string // the manifest, as its problems name it
	Line int
}

func (s Source) String() string {
	switch {
	case s.Env != "":
		return s.Env + " (environment)"
	case s.File != "":
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return "default"
}

// Source says where setting got its value: setting is a variable such as
// SLIPWAY_APP (rows of `config`) or a manifest key such as health.path or
// env.LOG_LEVEL.
func (c Config) Source(setting string) Source {
	if s, ok := c.sources[setting]; ok {
		return s
	}
	if c.Manifest != nil && c.Manifest.Has(setting) {
		return fileSource(c.Manifest, setting)
	}
	return Source{}
}

func fileSource(m *manifest.Manifest, key string) Source {
	return Source{File: m.File, Line: m.Line(key)}
}

// manifest reads the slipway.yaml found from dir (none for ""), keeps it
// for fromFile and records its problems. Its name in messages is its path
// from dir: slipway.yaml when dir is the app's root.
func (p *parser) manifest(dir string) *manifest.Manifest {
	p.m = manifest.Default()
	if dir == "" {
		return p.m
	}
	path, err := manifest.Find(dir)
	if err != nil || path == "" {
		if err != nil {
			p.problem(err)
		}
		return p.m
	}
	name := path
	if abs, err := filepath.Abs(dir); err == nil {
		if r, err := filepath.Rel(abs, path); err == nil {
			name = r
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		p.problem(fmt.Errorf("read %s: %w", name, err))
		return p.m
	}
	m, err := manifest.Parse(name, data, filepath.Dir(path))
	if err != nil {
		p.problem(err)
	}
	p.m = m
	return m
}

// fromFile is the default of variable k: the manifest's value at key when
// the file sets it and k is unset (recording the file as the source),
// else def. A set variable then wins in the parser's own reading of k.
func fromFile[T any](p *parser, k, key string, fileValue, def T) T {
	if p.m != nil && p.m.Has(key) && strings.TrimSpace(p.env(k)) == "" {
		p.set(k, fileSource(p.m, key))
		return fileValue
	}
	return def
}

// effective is m with the variables applied and the target's health check
// defaults filled in; on aws it checks the health check against what an
// ALB target group takes.
func (p *parser) effective(m *manifest.Manifest, c Config) *manifest.Manifest {
	e := *m
	e.App = c.App
	e.Resources = manifest.Resources{CPU: c.AWS.CPU, Memory: c.AWS.Memory}
	def := manifest.LocalHealth
	if c.Target == TargetAWS {
		def = manifest.AWSHealth
	}
	e.Health = m.HealthOr(def)
	if c.Target == TargetAWS {
		p.awsHealth(&e)
	}
	return &e
}

// awsHealth refuses the health check values the file sets that an ALB
// target group or ECS service would refuse.
func (p *parser) awsHealth(m *manifest.Manifest) {
	h := m.Health
	within := func(key string, d, lo, hi time.Duration, what string) {
		if m.Has(key) && (d < lo || d > hi || d%time.Second != 0) {
			p.problem(fmt.Errorf("%s: %s: the aws target %s %s to %s, in whole seconds; got %s", fileSource(m, key), key, what, lo, hi, d))
		}
	}
	within("health.interval", h.Interval, 5*time.Second, 300*time.Second, "checks every")
	within("health.timeout", h.Timeout, 2*time.Second, 120*time.Second, "waits for a check")
	within("health.grace", h.Grace, 0, 2147483647*time.Second, "ignores failures after a start for")
	if (m.Has("health.timeout") || m.Has("health.interval")) && h.Timeout >= h.Interval {
		key := "health.timeout"
		if !m.Has(key) {
			key = "health.interval"
		}
		p.problem(fmt.Errorf("%s: health.timeout %s must be shorter than health.interval %s on the aws target", fileSource(m, key), h.Timeout, h.Interval))
	}
	for _, key := range []string{"health.healthy_threshold", "health.unhealthy_threshold"} {
		n := h.HealthyThreshold
		if key == "health.unhealthy_threshold" {
			n = h.UnhealthyThreshold
		}
		if m.Has(key) && n < 2 {
			p.problem(fmt.Errorf("%s: %s: the aws target counts 2 to 10 checks; got %d", fileSource(m, key), key, n))
		}
	}
}

// databaseOn is SLIPWAY_DATABASE when set, else whether the manifest has
// a database.
func (p *parser) databaseOn(m *manifest.Manifest) bool {
	if strings.TrimSpace(p.env("SLIPWAY_DATABASE")) != "" {
		return p.flag("SLIPWAY_DATABASE")
	}
	if m.Database != nil {
		p.set("SLIPWAY_DATABASE", fileSource(m, "database"))
		return true
	}
	return false
}
