package deploy

import (
	"maps"
)

// forApp is s with what the app's manifest says every stack needs: its
// port, health check and secrets (references only).
func (f *Flow) forApp(s Spec) Spec {
	m := f.Manifest
	if m == nil {
		return s
	}
	s.Port, s.Health, s.Secrets = m.Port, m.Health, maps.Clone(m.Secrets)
	return s
}

// appEnv is a stack's environment: the manifest's env with the overrides
// of previews or production on top, then vars (the APP_* variables of the
// caller), which win. Secrets are not in it.
func (f *Flow) appEnv(production bool, vars map[string]string) map[string]string {
	if f.Manifest == nil {
		return vars
	}
	env := f.Manifest.Environment(production)
	maps.Copy(env, vars)
	return env
}

// testTarget says where the tests reach stack: at its own URL when the
// target gives one (no Host header, no stack header: what any client
// does), else through host's URL, with the stack header when viaHeader
// (a stack without traffic of its own).
func (f *Flow) testTarget(stack, ownURL, host string, viaHeader bool) TestTarget {
	if ownURL != "" {
		return TestTarget{BaseURL: ownURL, Stack: stack}
	}
	base, hostHeader := f.Routing.Dial(host)
	t := TestTarget{BaseURL: base, Host: hostHeader, Stack: stack}
	if viaHeader {
		t.StackHeader = stack
	}
	return t
}
