package awsprov

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/naming"
)

// lifeEnv is the release lifecycle of one app on the aws provider against
// moto: the orchestration of package deploy, as the commands run it.
type lifeEnv struct {
	e      *awsEnv
	p      *Provider
	f      *deploy.Flow
	img    *fixedImage
	tester *switchTester
	at     time.Time // the clock releases are named by
}

func newLifeEnv(t *testing.T, e *awsEnv, app string) *lifeEnv {
	p := e.provider(app, app+".example.com")
	must(t, p.EnsureShared(context.Background()))
	l := &lifeEnv{e: e, p: p, img: &fixedImage{}, tester: &switchTester{}, at: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	l.f = &deploy.Flow{App: app, Target: p, Builder: l.img, Tester: l.tester, Log: e.log, Routing: testRouting{},
		Now: func() time.Time { return l.at }, TargetName: "aws", Owner: "ci run 1", LockTTL: time.Minute}
	return l
}

// release releases image n an hour after the previous release.
func (l *lifeEnv) release(t *testing.T, n int, req deploy.ReleaseRequest) (deploy.ReleaseResult, error) {
	t.Helper()
	l.at = l.at.Add(time.Hour)
	l.img.img = image(n)
	req.AllowDirty, req.AllowBranch = true, true
	return l.f.ReleaseWith(context.Background(), req)
}

func (l *lifeEnv) name(t *testing.T, n int) string {
	t.Helper()
	s, err := naming.Release(l.f.App, l.at, image(n).Commit)
	must(t, err)
	return s
}

func (l *lifeEnv) stacks(t *testing.T) map[string]deploy.Stack {
	t.Helper()
	list, err := l.p.Stacks(context.Background())
	must(t, err)
	out := map[string]deploy.Stack{}
	for _, s := range list {
		out[s.Name] = s
	}
	return out
}

// production checks that stack takes all production traffic.
func (l *lifeEnv) production(t *testing.T, stack string) {
	t.Helper()
	r, err := l.p.Routes(context.Background())
	must(t, err)
	if len(r.Live()) != 1 || r.Live()[0] != stack {
		t.Errorf("production %v, want all on %s", r.Production, stack)
	}
}

// switchTester passes or fails the integration tests.
type switchTester struct {
	mu   sync.Mutex
	fail bool
}

func (s *switchTester) set(fail bool) { s.mu.Lock(); s.fail = fail; s.mu.Unlock() }

func (s *switchTester) Test(context.Context, deploy.TestTarget) (deploy.TestResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return deploy.TestResult{Passed: 3, Failed: 1, Summary: "3 passed, 1 failed: GET / answered 500"}, nil
	}
	return deploy.TestResult{Passed: 4, OK: true, Summary: "4 passed"}, nil
}

// testReleaseRollback: release v1 and v2 (one ModifyRule each after the
// first), the stacks carry what the lifecycle reads, and rollback goes back
// to v1 with one ModifyRule.
func testReleaseRollback(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	l := newLifeEnv(t, e, "life")
	env := map[string]string{"APP_MESSAGE": "hello"}
	_, err := l.release(t, 1, deploy.ReleaseRequest{Env: env, Branch: "main"})
	must(t, err)
	v1 := l.name(t, 1)
	modifies := e.inj.count("ModifyRule")
	res, err := l.release(t, 2, deploy.ReleaseRequest{Env: env, Branch: "feature/x#1", Dirty: true})
	must(t, err)
	v2 := l.name(t, 2)
	if n := e.inj.count("ModifyRule") - modifies; n != 1 || res.Stack != v2 {
		t.Errorf("release v2: %d ModifyRule, stack %s; want 1 call and %s", n, res.Stack, v2)
	}
	st := l.stacks(t)
	if s := st[v2]; s.Branch != "feature/x-1" || !s.Dirty || s.EnvHash != deploy.EnvHash(env) || s.State != deploy.StateHealthy || s.Scaled {
		t.Errorf("v2 reads %+v; want branch feature/x-1 (# is no tag character), dirty, the env hash, healthy", s)
	}
	if s := st[v1]; s.Branch != "main" || s.Dirty || s.LastLive.IsZero() || time.Since(s.LastLive) > time.Minute {
		t.Errorf("v1 reads %+v; want branch main, clean, last live just now (recorded when v2 took its traffic)", s)
	}
	modifies = e.inj.count("ModifyRule")
	rb, err := l.f.Rollback(ctx)
	must(t, err)
	if n := e.inj.count("ModifyRule") - modifies; n != 1 || rb.Stack != v1 || len(rb.From) != 1 || rb.From[0] != v2 {
		t.Errorf("rollback %+v with %d ModifyRule; want back to %s from %s in 1 call", rb, n, v1, v2)
	}
	l.production(t, v1)
	if got := l.stacks(t)[v2].LastLive; got.IsZero() {
		t.Error("v2 has no last-live record after the rollback took its traffic")
	}
}

// testFailedRelease: a release whose tests fail never gets traffic, is
// marked failed (a stack tag, read back as StateFailed, and scaled to
// zero in the same update) and is never a rollback target.
func testFailedRelease(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	l := newLifeEnv(t, e, "sad")
	_, err := l.release(t, 1, deploy.ReleaseRequest{})
	must(t, err)
	v1 := l.name(t, 1)
	_, err = l.release(t, 2, deploy.ReleaseRequest{})
	must(t, err)
	v2 := l.name(t, 2)
	l.tester.set(true)
	defer l.tester.set(false)
	modifies := e.inj.count("ModifyRule") + e.inj.count("CreateRule")
	_, err = l.release(t, 3, deploy.ReleaseRequest{})
	v3 := l.name(t, 3)
	if !errors.Is(err, deploy.ErrTestsFailed) || !strings.Contains(err.Error(), "production traffic unchanged") {
		t.Fatalf("release with failing tests: %v, want ErrTestsFailed and traffic unchanged", err)
	}
	if n := e.inj.count("ModifyRule") + e.inj.count("CreateRule") - modifies; n != 0 {
		t.Errorf("%d rule changes during a failed release, want none", n)
	}
	l.production(t, v2)
	s := l.stacks(t)[v3]
	if s.State != deploy.StateFailed || !s.Scaled || s.Healthy {
		t.Errorf("failed release reads %+v; want state failed, scaled to zero, not healthy", s)
	}
	if got := stackTag(t, e, v3, TagReason); !strings.Contains(got, "1 failed") {
		t.Errorf("reason tag %q, want the test summary", got)
	}
	rb, err := l.f.Rollback(ctx)
	must(t, err)
	if rb.Stack != v1 {
		t.Errorf("rollback chose %s, want %s (never the failed %s)", rb.Stack, v1, v3)
	}
	if err := l.f.SetTraffic(ctx, []deploy.Weight{{Stack: v3, Weight: 100}}); err == nil || !strings.Contains(err.Error(), "failed its release") {
		t.Errorf("traffic onto the failed stack: %v, want a refusal", err)
	}
}

// testReleaseLocked: a second release while another run holds the lease
// fails at once (no wait set), naming the holder, and changes nothing.
func testReleaseLocked(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	l := newLifeEnv(t, e, "busy")
	_, err := l.release(t, 1, deploy.ReleaseRequest{})
	must(t, err)
	v1 := l.name(t, 1)
	held, err := l.p.TryLock(ctx, "alice@laptop (pid 42)", time.Minute)
	must(t, err)
	defer func() { must(t, held.Unlock(ctx)) }()
	creates := e.inj.count("CreateChangeSet")
	_, err = l.release(t, 2, deploy.ReleaseRequest{})
	var le *deploy.LockedError
	if !errors.As(err, &le) || le.Owner != "alice@laptop (pid 42)" || !strings.Contains(err.Error(), "locked by alice@laptop (pid 42)") {
		t.Fatalf("release while alice holds the lock: %v, want it refused naming her", err)
	}
	if n := e.inj.count("CreateChangeSet") - creates; n != 0 {
		t.Errorf("%d change sets created by the refused release, want none", n)
	}
	l.production(t, v1)
}

// stackTag reads a tag of a stack straight from moto.
func stackTag(t *testing.T, e *awsEnv, stack, key string) string {
	t.Helper()
	st, err := e.provider("read", "").eng.Describe(context.Background(), stack)
	must(t, err)
	return st.Tags[key]
}

// testRollbackFromASplit is the README's manual canary: v1 released, then
// v2, then traffic:set "v1=90 v2=10", then rollback: all traffic goes back
// to v1, the release before the newest live one.
func testRollbackFromASplit(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	l := newLifeEnv(t, e, "split")
	_, err := l.release(t, 1, deploy.ReleaseRequest{})
	must(t, err)
	v1 := l.name(t, 1)
	_, err = l.release(t, 2, deploy.ReleaseRequest{})
	must(t, err)
	v2 := l.name(t, 2)
	must(t, l.f.SetTraffic(ctx, []deploy.Weight{{Stack: v1, Weight: 90}, {Stack: v2, Weight: 10}}))
	rb, err := l.f.Rollback(ctx)
	must(t, err)
	if rb.Stack != v1 {
		t.Errorf("rollback from the split v1=90 v2=10 went to %s, want %s", rb.Stack, v1)
	}
	l.production(t, v1)
}
