package local

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/manifest"
	"github.com/slipway/slipway/internal/router"
)

// Labels of what the app needs from the router: a container keeps them so
// that ScaleUp registers it again as it was deployed.
const (
	LabelPort   = "dev.slipway.port"   // the port the app listens on
	LabelHealth = "dev.slipway.health" // its router health check (JSON), when not the table's
)

// containerPort is the port the app listens on: the spec's, else 8080.
func containerPort(s deploy.Spec) string {
	if s.Port > 0 {
		return strconv.Itoa(s.Port)
	}
	return appPort
}

// targetHealth is the router health check of the app's health h: nil when
// h is zero or the table's own (manifest.LocalHealth, baseTable), so that
// the sample app's table is what it was before the manifest.
func targetHealth(h manifest.Health) *router.HealthCheck {
	if h == (manifest.Health{}) || h == manifest.LocalHealth {
		return nil
	}
	hc := &router.HealthCheck{Path: h.Path, HealthyThreshold: h.HealthyThreshold, UnhealthyThreshold: h.UnhealthyThreshold}
	if h.Interval > 0 {
		hc.Interval = router.DurationOf(h.Interval)
	}
	if h.Timeout > 0 {
		hc.Timeout = router.DurationOf(h.Timeout)
	}
	if h.Grace > 0 {
		hc.Grace = router.DurationOf(h.Grace)
	}
	return hc
}

// newTarget is the router target of a new instance of s.
func newTarget(s deploy.Spec, name string) router.Target {
	return router.Target{Name: name, Stack: s.Stack, URL: "http://" + name + ":" + containerPort(s), Health: targetHealth(s.Health)}
}

// appLabels records the app's port and health check on its container.
func appLabels(l map[string]string, s deploy.Spec) {
	l[LabelPort] = containerPort(s)
	if hc := targetHealth(s.Health); hc != nil {
		if b, err := json.Marshal(hc); err == nil { // a struct of strings and ints: it always encodes
			l[LabelHealth] = string(b)
		}
	}
}

// targetOf is the router target of an instance as its labels describe
// it, and the grace of its health check. A container from before the
// labels listens on 8080 with the table's check.
func targetOf(in instance) (router.Target, time.Duration, error) {
	port := in.Labels[LabelPort]
	if port == "" {
		port = appPort
	}
	t := router.Target{Name: in.Name, Stack: in.Stack, URL: "http://" + in.Name + ":" + port}
	var grace time.Duration
	if raw := in.Labels[LabelHealth]; raw != "" {
		var hc router.HealthCheck
		if err := json.Unmarshal([]byte(raw), &hc); err != nil {
			return t, 0, fmt.Errorf("read the health check of %s from its label %s: %w", in.Name, LabelHealth, err)
		}
		t.Health = &hc
		grace, _ = time.ParseDuration(hc.Grace) // "" or what DurationOf wrote
	}
	return t, grace, nil
}

// graceNote names the grace a health wait got on top of the timeout.
func graceNote(grace time.Duration) string {
	if grace <= 0 {
		return ""
	}
	return " plus health.grace " + grace.String()
}

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// secretVar is the caller's variable that holds a secret's value on the
// local target: its reference when that is a variable name, else (an ARN,
// a Secrets Manager name with a slash, an SSM parameter: references for
// aws) the variable of the secret's own name.
func secretVar(name, ref string) string {
	if varName.MatchString(ref) {
		return ref
	}
	return name
}

// secretEnv reads the spec's secrets from the caller's environment, as
// KEY=value entries sorted by key, for the container's environment alone.
// Every missing one is named together; no value is ever in an error.
func (p *Provider) secretEnv(s deploy.Spec) ([]string, error) {
	names := make([]string, 0, len(s.Secrets))
	for name := range s.Secrets {
		names = append(names, name)
	}
	sort.Strings(names)
	var out, missing []string
	for _, name := range names {
		v := secretVar(name, s.Secrets[name])
		val := p.o.Env(v)
		if val == "" {
			if v == name {
				missing = append(missing, v)
			} else {
				missing = append(missing, v+" (secret "+name+")")
			}
			continue
		}
		out = append(out, name+"="+val)
	}
	if len(missing) > 0 {
		verb, it := "is", "it"
		if len(missing) > 1 {
			verb, it = "are", "them"
		}
		return nil, fmt.Errorf("deploy %s: the app's secrets are read from the environment Slipway runs in, and %s %s not set: export %s (slipway.yaml's secrets name the variables; nothing was started)",
			s.Stack, strings.Join(missing, ", "), verb, it)
	}
	return out, nil
}
