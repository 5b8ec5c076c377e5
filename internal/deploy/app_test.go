package deploy

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/manifest"
)

// shopManifest is an app on its own port, health check and variables.
func shopManifest() *manifest.Manifest {
	m := manifest.Default()
	m.Port = 3000
	m.Health = manifest.Health{Path: "/up", Interval: time.Second, Timeout: 500 * time.Millisecond, HealthyThreshold: 2, UnhealthyThreshold: 3, Grace: 5 * time.Second}
	m.Env = map[string]string{"LOG_LEVEL": "info", "REGION": "local"}
	m.Preview.Env = map[string]string{"LOG_LEVEL": "debug"}
	m.Production.Env = map[string]string{"LOG_LEVEL": "warn"}
	m.Secrets = map[string]string{"STRIPE_KEY": "STRIPE_KEY"}
	return m
}

// Every stack gets what slipway.yaml says: its port, health check and
// secrets (references), and env with the stage's overrides on top, under
// the caller's own variables.
func TestEveryStackGetsTheAppsPortHealthEnvAndSecrets(t *testing.T) {
	ctx := context.Background()
	p := newFake()
	f, _ := newFlow(p, "abcdef1234567", &fakeTester{})
	f.Manifest = shopManifest()
	if _, err := f.DeployPreview(ctx, PreviewRequest{PR: 42, Env: map[string]string{"APP_MESSAGE": "hi", "REGION": "mine"}}); err != nil {
		t.Fatal(err)
	}
	rel, err := f.Release(ctx, map[string]string{"APP_MESSAGE": "v1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		stack string
		env   map[string]string
	}{
		"a preview: env, preview.env, then the caller's variables": {"shop-pr-42", map[string]string{"LOG_LEVEL": "debug", "REGION": "mine", "APP_MESSAGE": "hi"}},
		"a release: env, production.env, then the caller's":        {rel.Stack, map[string]string{"LOG_LEVEL": "warn", "REGION": "local", "APP_MESSAGE": "v1"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := p.specs[tc.stack]
			if s.Port != 3000 || s.Health != f.Manifest.Health || !maps.Equal(s.Secrets, map[string]string{"STRIPE_KEY": "STRIPE_KEY"}) {
				t.Fatalf("%s deployed with port %d, health %+v, secrets %v", tc.stack, s.Port, s.Health, s.Secrets)
			}
			if !maps.Equal(s.Env, tc.env) {
				t.Fatalf("%s deployed with env %v, want %v", tc.stack, s.Env, tc.env)
			}
		})
	}
}

// Without a manifest a stack gets what it got before slipway.yaml: the
// caller's variables alone, and no port, health or secret of the app's.
func TestWithoutAManifestTheSpecIsAsBefore(t *testing.T) {
	p := newFake()
	f, _ := newFlow(p, "abcdef1234567", &fakeTester{})
	if _, err := f.DeployPreview(context.Background(), PreviewRequest{PR: 1, Env: map[string]string{"APP_MESSAGE": "hi"}}); err != nil {
		t.Fatal(err)
	}
	s := p.specs["shop-pr-1"]
	if s.Port != 0 || s.Health != (manifest.Health{}) || s.Secrets != nil || !maps.Equal(s.Env, map[string]string{"APP_MESSAGE": "hi"}) {
		t.Fatalf("spec %+v", s)
	}
}

// A target that gives each stack its own URL gets the tests there, with
// no Host header and no stack header: a preview's, a release candidate's
// before it has traffic; the report and the results carry it.
func TestTestsUseTheStacksOwnURL(t *testing.T) {
	ctx := context.Background()
	p, tester := newFake(), &fakeTester{}
	p.ownURLs = true
	f, rec := newFlow(p, "abcdef1234567", tester)
	pre, err := f.DeployPreview(ctx, PreviewRequest{PR: 42})
	if err != nil {
		t.Fatal(err)
	}
	rel, err := f.Release(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pre.StackURL != "http://127.0.0.1:18100" || rel.StackURL != "http://127.0.0.1:18101" || pre.URL != "http://pr-42.shop.localhost:8080" {
		t.Fatalf("preview %+v, release %+v", pre, rel)
	}
	for i, want := range []TestTarget{
		{BaseURL: pre.StackURL, Commit: "abcdef1234567", Stack: "shop-pr-42"},
		{BaseURL: rel.StackURL, Commit: "abcdef1234567", Stack: rel.Stack, Production: true},
	} {
		if got := tester.targets[i]; got != want {
			t.Fatalf("tests %d ran against %+v, want %+v", i, got, want)
		}
	}
	if last := rec.events[len(rec.events)-1]; last.StackURL != pre.StackURL || last.URL != pre.URL {
		t.Fatalf("the report says URL %q, stack URL %q", last.URL, last.StackURL)
	}
	again, err := f.DeployPreview(ctx, PreviewRequest{PR: 42})
	if err != nil || again.StackURL != pre.StackURL {
		t.Fatalf("a re-deploy moved the stack URL to %q (%v)", again.StackURL, err)
	}
}
