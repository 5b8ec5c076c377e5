package deploy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// fakeProvider keeps stacks and routes in memory, as a target would.
type fakeProvider struct {
	mu        sync.Mutex // cleanup deletes in parallel
	stacks    map[string]Stack
	routes    Routes
	failStack string // Deploy of this stack fails like an unhealthy container
	calls     []string
	samples   int             // Sample calls so far
	badStack  string          // Sample counts 20 % errors for it
	locker    Locker          // the app's lease; newFake gives an in-memory one
	specs     map[string]Spec // the last Spec each stack was deployed with
	ownURLs   bool            // Deploy gives each stack a URL of its own, as the local target does
}

var _ Target = (*fakeProvider)(nil)

func newFake() *fakeProvider {
	return &fakeProvider{stacks: map[string]Stack{}, routes: Routes{Hosts: map[string]string{}}, locker: &fakeLocker{now: time.Now}, specs: map[string]Spec{}}
}

func (f *fakeProvider) EnsureShared(context.Context) error {
	f.calls = append(f.calls, "shared")
	return nil
}

func (f *fakeProvider) Deploy(_ context.Context, s Spec) (Stack, error) {
	f.calls = append(f.calls, "deploy "+s.Stack)
	if s.Stack == f.failStack {
		return Stack{}, fmt.Errorf("deploy %s: container exited with code 1 before it became healthy", s.Stack)
	}
	st := Stack{Name: s.Stack, Role: s.Role, PR: s.PR, Commit: s.Commit, Digest: s.Digest, Created: time.Unix(1_700_000_000, 0), Healthy: true,
		Branch: s.Branch, Dirty: s.Dirty, EnvHash: EnvHash(s.Env)}
	if f.ownURLs {
		st.URL = fmt.Sprintf("http://127.0.0.1:%d", 18100+len(f.specs))
		if old, ok := f.stacks[s.Stack]; ok {
			st.URL = old.URL
		}
	}
	f.stacks[s.Stack] = st
	f.specs[s.Stack] = s
	return st, nil
}

func (f *fakeProvider) Delete(_ context.Context, stack string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "delete "+stack)
	for _, l := range f.routes.Live() {
		if l == stack {
			return ErrLive
		}
	}
	delete(f.stacks, stack)
	return nil
}

func (f *fakeProvider) Stacks(context.Context) ([]Stack, error) {
	var out []Stack
	for _, s := range f.stacks {
		out = append(out, s)
	}
	return out, nil
}

func (f *fakeProvider) Routes(context.Context) (Routes, error) { return cloneRoutes(f.routes), nil }

func (f *fakeProvider) SetHost(_ context.Context, host, stack string) error {
	if stack == "" {
		delete(f.routes.Hosts, host)
		return nil
	}
	if _, ok := f.stacks[stack]; !ok {
		return errors.New("unknown stack " + stack)
	}
	f.calls = append(f.calls, "host "+host)
	f.routes.Hosts[host] = stack
	return nil
}

func (f *fakeProvider) SetProduction(_ context.Context, w []Weight) error {
	for _, x := range w {
		if _, ok := f.stacks[x.Stack]; !ok {
			return errors.New("unknown stack " + x.Stack)
		}
	}
	f.calls = append(f.calls, "production")
	for _, old := range f.routes.Production {
		s := f.stacks[old.Stack]
		s.LastLive = time.Unix(1_700_000_000+int64(len(f.calls)), 0) // as the router records it
		f.stacks[old.Stack] = s
	}
	f.routes.Production = append([]Weight(nil), w...)
	return nil
}

type fakeBuilder struct{ commit string }

func (b fakeBuilder) Build(context.Context, string) (Image, error) {
	return Image{Ref: "sha256:" + b.commit, Digest: "sha256:" + b.commit, Commit: b.commit, Version: "v1"}, nil
}

// fakeTester fails when the expected commit is in fail.
type fakeTester struct {
	fail    map[string]bool
	targets []TestTarget
}

func (t *fakeTester) Test(_ context.Context, tt TestTarget) (TestResult, error) {
	t.targets = append(t.targets, tt)
	if t.fail[tt.Commit] {
		return TestResult{Passed: 2, Failed: 1, Summary: "integration: 2 passed, 1 failed"}, nil
	}
	return TestResult{Passed: 3, OK: true, Summary: "integration: 3 passed, 0 failed"}, nil
}

type fakeRouting struct{}

func (fakeRouting) PreviewHost(l string) string { return l + ".shop.localhost" }
func (fakeRouting) ProductionHost() string      { return "shop.localhost" }
func (fakeRouting) URL(h string) string         { return "http://" + h + ":8080" }
func (fakeRouting) Dial(h string) (string, string) {
	return "http://127.0.0.1:8080", h
}

type recorder struct{ events []Event }

func (r *recorder) Report(_ context.Context, e Event) error {
	r.events = append(r.events, e)
	return nil
}

// cloneRoutes is a deep copy, so callers cannot change the fake's state.
func cloneRoutes(r Routes) Routes {
	c := Routes{Hosts: map[string]string{}, Production: append([]Weight(nil), r.Production...)}
	for h, s := range r.Hosts {
		c.Hosts[h] = s
	}
	return c
}
