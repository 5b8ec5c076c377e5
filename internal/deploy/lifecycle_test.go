package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// releases makes n releases of commits c1, c2, ... an hour apart.
func releases(t *testing.T, p *fakeProvider, commits ...string) (*Flow, []string) {
	t.Helper()
	f, _ := newFlow(p, commits[0], &fakeTester{})
	var names []string
	for i, c := range commits {
		f.Builder = fakeBuilder{c}
		at := time.Date(2026, 11, 25, 12+i, 0, 0, 0, time.UTC)
		f.Now = func() time.Time { return at }
		res, err := f.Release(context.Background(), nil)
		if err != nil {
			t.Fatalf("release %s: %v", c, err)
		}
		names = append(names, res.Stack)
	}
	return f, names
}

func TestRollbackMovesAllTrafficToTheMostRecentlyLivePreviousStack(t *testing.T) {
	p := newFake()
	f, names := releases(t, p, "aaaaaaa", "bbbbbbb", "ccccccc")
	res, err := f.Rollback(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Stack != names[1] || len(res.From) != 1 || res.From[0] != names[2] {
		t.Fatalf("rollback chose %+v, want %s from %s", res, names[1], names[2])
	}
	if live := p.routes.Live(); len(live) != 1 || live[0] != names[1] || p.routes.Production[0].Weight != 100 {
		t.Fatalf("production is %+v, want all of it on %s", p.routes.Production, names[1])
	}
}

func TestRollbackScalesUpAStackScaledToZeroBeforeMovingTraffic(t *testing.T) {
	p := newFake()
	f, names := releases(t, p, "aaaaaaa", "bbbbbbb")
	if err := p.ScaleDown(context.Background(), names[0]); err != nil {
		t.Fatal(err)
	}
	p.calls = nil
	if _, err := f.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.calls, ",") != "scale-up "+names[0]+",production" {
		t.Fatalf("calls %v: the stack must be scaled up before traffic moves", p.calls)
	}
}

func TestRollbackRefusesWhenThereIsNothingToRollBackTo(t *testing.T) {
	p := newFake()
	f, names := releases(t, p, "aaaaaaa")
	_, err := f.Rollback(context.Background())
	if !errors.Is(err, ErrNothingToRollBack) || !strings.Contains(err.Error(), names[0]) {
		t.Fatalf("err = %v", err)
	}
}

func TestAFailedReleaseIsMarkedFailedAndIsNoRollbackTarget(t *testing.T) {
	p := newFake()
	f, names := releases(t, p, "aaaaaaa", "bbbbbbb")
	f.Builder, f.Tester = fakeBuilder{"ccccccc"}, &fakeTester{fail: map[string]bool{"ccccccc": true}}
	f.Now = func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }
	res, err := f.Release(context.Background(), nil)
	if !errors.Is(err, ErrTestsFailed) || p.stacks[res.Stack].State != StateFailed {
		t.Fatalf("err %v, stack %+v", err, p.stacks[res.Stack])
	}
	rb, err := f.Rollback(context.Background())
	if err != nil || rb.Stack != names[0] {
		t.Fatalf("rollback went to %q (%v), want %s: a failed stack is never a rollback target", rb.Stack, err, names[0])
	}
}

func TestTrafficSetIsOneAtomicSplitOfHealthyProductionStacks(t *testing.T) {
	p := newFake()
	f, names := releases(t, p, "aaaaaaa", "bbbbbbb")
	ctx := context.Background()
	ws, err := ParseWeights([]string{names[0] + "=90", names[1] + "=10"})
	if err != nil {
		t.Fatal(err)
	}
	before := len(p.calls)
	if err := f.SetTraffic(ctx, ws); err != nil {
		t.Fatal(err)
	}
	if p.calls[len(p.calls)-1] != "production" || len(p.calls) != before+1 {
		t.Fatalf("calls %v: one change of the split expected", p.calls[before:])
	}
	rows, err := f.Traffic(ctx)
	if err != nil || len(rows) != 2 || rows[0].Percent != 90 || rows[1].Percent != 10 {
		t.Fatalf("traffic %+v %v", rows, err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"all weights zero", []string{names[0] + "=0"}, "at least one stack needs a positive weight"},
		{"unknown stack", []string{"shop-prod-nope=100"}, "no stack shop-prod-nope"},
		{"not a weight", []string{names[0] + "=ten"}, "is not <stack>=<weight>"},
		{"weight too big", []string{names[0] + "=1000"}, "is not <stack>=<weight>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, err := ParseWeights(tc.args)
			if err == nil {
				err = f.SetTraffic(ctx, ws)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if len(p.routes.Production) != 2 {
				t.Fatalf("a refused split changed production: %+v", p.routes.Production)
			}
		})
	}
}

func TestReleaseGuards(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  ReleaseRequest
		want error
		flag string
	}{
		{"dirty tree", ReleaseRequest{Dirty: true, Branch: "main", DefaultBranch: "main"}, ErrDirtyTree, "-allowDirty (SLIPWAY_ALLOW_DIRTY=1)"},
		{"feature branch", ReleaseRequest{Branch: "feat/x", DefaultBranch: "main"}, ErrOtherBranch, "-allowBranch (SLIPWAY_ALLOW_BRANCH=1)"},
		{"dirty allowed", ReleaseRequest{Dirty: true, AllowDirty: true}, nil, ""},
		{"branch allowed", ReleaseRequest{Branch: "feat/x", DefaultBranch: "main", AllowBranch: true}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newFake()
			f, _ := newFlow(p, "aaaaaaa", &fakeTester{})
			_, err := f.ReleaseWith(context.Background(), tc.req)
			if !errors.Is(err, tc.want) || (err != nil && !strings.Contains(err.Error(), tc.flag)) {
				t.Fatalf("err = %v, want %v naming %s", err, tc.want, tc.flag)
			}
			if tc.want != nil && len(p.calls) != 0 {
				t.Fatalf("a refused release touched the target: %v", p.calls)
			}
		})
	}
}

func TestADirtyBuildIsRefusedAndWhenAllowedIsLabelledDirty(t *testing.T) {
	p := newFake()
	f, _ := newFlow(p, "aaaaaaa", &fakeTester{})
	f.Builder = dirtyBuilder{}
	if _, err := f.ReleaseWith(context.Background(), ReleaseRequest{}); !errors.Is(err, ErrDirtyTree) {
		t.Fatalf("an image whose version says dirty must be refused: %v", err)
	}
	res, err := f.ReleaseWith(context.Background(), ReleaseRequest{AllowDirty: true})
	if err != nil || !p.stacks[res.Stack].Dirty {
		t.Fatalf("release %+v %v: the stack must be marked dirty", p.stacks[res.Stack], err)
	}
	if got := commitLabel(p.stacks[res.Stack]); got != "aaaaaaa+dirty" {
		t.Fatalf("status commit %q, want the dirty mark", got)
	}
	pre, err := f.DeployPreview(context.Background(), PreviewRequest{PR: 5})
	if err != nil || commitLabel(p.stacks[pre.Stack]) != "aaaaaaa+dirty" {
		t.Fatalf("preview %+v %v: a preview of a dirty build must show the dirty mark too", p.stacks[pre.Stack], err)
	}
}

type dirtyBuilder struct{}

func (dirtyBuilder) Build(context.Context, string) (Image, error) {
	return Image{Ref: "sha256:d", Digest: "sha256:d", Commit: "aaaaaaa", Version: "v1-dirty"}, nil
}

func TestAnEnvironmentChangeIsANewRelease(t *testing.T) {
	p := newFake()
	f, _ := newFlow(p, "aaaaaaa", &fakeTester{})
	ctx := context.Background()
	first, err := f.Release(ctx, map[string]string{"APP_MESSAGE": "hi"})
	if err != nil {
		t.Fatal(err)
	}
	f.Now = func() time.Time { return time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC) }
	second, err := f.Release(ctx, map[string]string{"APP_MESSAGE": "hello"})
	if err != nil || second.Unchanged || second.Stack == first.Stack {
		t.Fatalf("second %+v %v: a new message must be a new stack", second, err)
	}
	again, err := f.Release(ctx, map[string]string{"APP_MESSAGE": "hello"})
	if err != nil || !again.Unchanged {
		t.Fatalf("same image and env again: %+v %v", again, err)
	}
}

func TestTwoReleasesInTheSameSecondGetDistinctStacks(t *testing.T) {
	p := newFake()
	f, _ := newFlow(p, "aaaaaaa", &fakeTester{})
	ctx := context.Background()
	a, err := f.Release(ctx, map[string]string{"APP_COLOR": "red"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Release(ctx, map[string]string{"APP_COLOR": "blue"}) // same commit, same second
	if err != nil || a.Stack == b.Stack || b.Stack != a.Stack+"-2" {
		t.Fatalf("stacks %s and %s (%v)", a.Stack, b.Stack, err)
	}
}

func TestASecondReleaseWhileTheLockIsHeldFailsNamingTheHolder(t *testing.T) {
	p := newFake()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	lk := &fakeLocker{now: func() time.Time { return now }}
	f, _ := newFlow(p, "aaaaaaa", &fakeTester{})
	p.locker, f.Owner = lk, "ci run 7"
	if _, err := lk.TryLock(context.Background(), "alice@laptop", time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err := f.Release(context.Background(), nil)
	var held *LockedError
	if !errors.As(err, &held) || held.Owner != "alice@laptop" || !strings.Contains(err.Error(), "SLIPWAY_LOCK_WAIT") {
		t.Fatalf("err = %v", err)
	}
	if len(p.calls) != 0 {
		t.Fatalf("the release touched the target without the lock: %v", p.calls)
	}
	var log strings.Builder
	f.Log = &log
	now = now.Add(2 * time.Minute) // alice's lease expired: she stopped without unlocking
	if _, err := f.Release(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "took over the lock of alice@laptop") {
		t.Fatalf("the takeover must be said with the old owner: %s", log.String())
	}
	if lk.owner != "" {
		t.Fatalf("the lock is still held by %s after the release", lk.owner)
	}
}

func TestABrokenCanaryIsRolledBackNamingTheFigures(t *testing.T) {
	p := newFake()
	f, names := releases(t, p, "aaaaaaa")
	f.Strategy = Strategy{Steps: []int{10, 50, 100}, Bake: time.Millisecond, MaxErrorRate: 0.01}
	f.Builder, f.Now = fakeBuilder{"bbbbbbb"}, func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }
	p.badStack = "shop-prod-20261126000000-bbbbbbb"
	_, err := f.Release(context.Background(), nil)
	if !errors.Is(err, ErrCanaryFailed) || !strings.Contains(err.Error(), "error rate 20.0%") || !strings.Contains(err.Error(), "at 10%") {
		t.Fatalf("err = %v", err)
	}
	if live := p.routes.Live(); len(live) != 1 || live[0] != names[0] {
		t.Fatalf("production is %+v after a failed canary, want all on %s", p.routes.Production, names[0])
	}
	if p.stacks[p.badStack].State != StateFailed {
		t.Fatal("the failed canary stack must be marked failed")
	}

	p.badStack = ""
	f.Builder, f.Now = fakeBuilder{"ccccccc"}, func() time.Time { return time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC) }
	res, err := f.Release(context.Background(), nil)
	if err != nil || p.routes.Live()[0] != res.Stack || p.routes.Production[0].Weight != 100 {
		t.Fatalf("a healthy canary should end with all traffic: %+v %v", p.routes.Production, err)
	}
}

func TestCanarySplitKeepsTheOldProportions(t *testing.T) {
	got := canarySplit("new", []Weight{{"a", 75}, {"b", 25}}, 10)
	if SplitString(got) != "new=100 a=675 b=225" {
		t.Fatalf("split %s", SplitString(got))
	}
}

func TestABranchPreviewShowsItsBranchAndCanBeDestroyedByStackName(t *testing.T) {
	p := newFake()
	f, _ := newFlow(p, "aaaaaaa", &fakeTester{})
	ctx := context.Background()
	res, err := f.DeployPreview(ctx, PreviewRequest{Branch: "feat/login"})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.Status(ctx)
	if err != nil || len(rows) != 1 || rows[0].Source != "feat/login" {
		t.Fatalf("status %+v %v: the branch must show", rows, err)
	}
	prod, err := f.Release(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.DestroyStack(ctx, prod.Stack); err == nil || !strings.Contains(err.Error(), "not a preview") {
		t.Fatalf("destroying a production stack by name: %v", err)
	}
	err = f.DestroyStack(ctx, "shop-feat-logn")
	if !errors.Is(err, ErrNoSuchStack) || !strings.Contains(err.Error(), "the previews of shop are: "+res.Stack) {
		t.Fatalf("destroying a mistyped stack: %v, want a refusal listing the previews", err)
	}
	if err := f.DestroyStack(ctx, res.Stack); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.stacks[res.Stack]; ok || len(p.routes.Hosts) != 0 {
		t.Fatalf("left %+v %+v", p.stacks, p.routes.Hosts)
	}
	if err := f.DestroyStack(ctx, res.Stack); !errors.Is(err, ErrNoSuchStack) || !strings.Contains(err.Error(), "shop has no previews") {
		t.Fatalf("destroying it again: %v, want no such stack, and that there are no previews", err)
	}
}

func TestCanaryDeltaSurvivesACounterReset(t *testing.T) {
	d := delta(map[string]TrafficSample{"a": {Requests: 100, Errors: 5}}, map[string]TrafficSample{"a": {Requests: 7, Errors: 1}})
	if d["a"].Requests != 7 || d["a"].Errors != 1 {
		t.Fatalf("delta %+v after a restart, want the new counts", d["a"])
	}
}

// losingLease is a lease whose heartbeat finds it taken over.
type losingLease struct{ unlocked bool }

func (l *losingLease) Renew(context.Context) error {
	return errors.New("the lease was taken over by bob after it expired")
}
func (l *losingLease) Unlock(context.Context) error { l.unlocked = true; return nil }
func (l *losingLease) TakenFrom() string            { return "" }

type losingLocker struct{ lease *losingLease }

func (l losingLocker) TryLock(context.Context, string, time.Duration) (Lease, error) {
	return l.lease, nil
}

func TestLosingTheLockStopsTheOperation(t *testing.T) {
	p := newFake()
	f, _ := newFlow(p, "aaaaaaa", &fakeTester{})
	lease := &losingLease{}
	p.locker, f.LockTTL = losingLocker{lease}, 30*time.Millisecond
	err := f.locked(context.Background(), "release", func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(5 * time.Second):
			return errors.New("still running after the lease was lost")
		}
	})
	if err == nil || !strings.Contains(err.Error(), "lost the lock") || !strings.Contains(err.Error(), "bob") || !lease.unlocked {
		t.Fatalf("err = %v, unlocked %v", err, lease.unlocked)
	}
}

func TestASecondReleaseWaitsUpToTheBoundThenNamesTheHolder(t *testing.T) {
	p := newFake()
	lk := &fakeLocker{now: time.Now}
	f, _ := newFlow(p, "aaaaaaa", &fakeTester{}) // Flow.Now is frozen: the wait must not depend on it
	p.locker, f.LockWait = lk, 200*time.Millisecond
	if _, err := lk.TryLock(context.Background(), "alice@laptop", time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err := f.Release(context.Background(), nil)
	var held *LockedError
	if !errors.As(err, &held) || lk.tries < 3 || !strings.Contains(err.Error(), "waited 200ms") {
		t.Fatalf("err %v after %d tries, want the holder named after waiting and retrying", err, lk.tries)
	}
}

// taggingBuilder records the purpose tags it gave images and removed.
type taggingBuilder struct {
	fakeBuilder
	built, removed []string
}

func (b *taggingBuilder) Build(ctx context.Context, purpose string) (Image, error) {
	b.built = append(b.built, purpose)
	return b.fakeBuilder.Build(ctx, purpose)
}

func (b *taggingBuilder) RemoveTag(_ context.Context, tag string) error {
	b.removed = append(b.removed, tag)
	return nil
}

// Destroying a preview, by number or by stack name, removes the tag its
// image was built with, and only that one.
func TestDestroyingAPreviewRemovesItsOwnImageTag(t *testing.T) {
	p := newFake()
	f, _ := newFlow(p, "aaaaaaa", &fakeTester{})
	b := &taggingBuilder{fakeBuilder: fakeBuilder{commit: "aaaaaaa"}}
	f.Builder = b
	ctx := context.Background()
	if _, err := f.DeployPreview(ctx, PreviewRequest{PR: 42}); err != nil {
		t.Fatal(err)
	}
	branch, err := f.DeployPreview(ctx, PreviewRequest{Branch: "feat/login"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.DestroyPreview(ctx, PreviewRequest{PR: 42}); err != nil {
		t.Fatal(err)
	}
	if err := f.DestroyStack(ctx, branch.Stack); err != nil {
		t.Fatal(err)
	}
	if strings.Join(b.removed, " ") != strings.Join(b.built, " ") || len(b.removed) != 2 || b.removed[0] != "pr-42" {
		t.Fatalf("built with tags %v, destroy removed %v: want the same tags", b.built, b.removed)
	}
}

// cancellingTester stops the run (Ctrl-C) while the release's tests run.
type cancellingTester struct{ cancel context.CancelFunc }

func (c cancellingTester) Test(ctx context.Context, _ TestTarget) (TestResult, error) {
	c.cancel()
	<-ctx.Done()
	return TestResult{}, ctx.Err()
}

// A release stopped by Ctrl-C during its tests says it was interrupted,
// not that it failed, leaves production where it was and marks the stack
// so it is no rollback target and cleanup removes it.
func TestAnInterruptedReleaseSaysSoAndCleanupRemovesIt(t *testing.T) {
	p := newFake()
	f, names := releases(t, p, "aaaaaaa")
	var log strings.Builder
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.Builder, f.Tester, f.Log = fakeBuilder{"bbbbbbb"}, cancellingTester{cancel}, &log
	res, err := f.Release(ctx, nil)
	if !errors.Is(err, ErrInterrupted) || !strings.HasPrefix(err.Error(), "release "+res.Stack+" interrupted") || !strings.Contains(err.Error(), "cleanup") {
		t.Fatalf("err = %v, want the release named as interrupted and what to run", err)
	}
	if !strings.Contains(log.String(), res.Stack+" interrupted: marked so it is no rollback target") || strings.Contains(log.String(), "marked failed") {
		t.Errorf("log says:\n%s\nwant the stack called interrupted", log.String())
	}
	if live := p.routes.Live(); len(live) != 1 || live[0] != names[0] {
		t.Errorf("production %v after the interrupted release, want %s", live, names[0])
	}
	plan, err := f.Cleanup(context.Background(), testPolicy, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range plan {
		if it.Stack == res.Stack && it.Action != ActionDelete {
			t.Errorf("cleanup plans %s for the interrupted stack, want delete", it.Action)
		}
	}
}

// A release candidate is tested as production (its tests must not write
// production's data); a preview is not.
func TestAReleaseCandidateIsTestedAsProduction(t *testing.T) {
	p, tester := newFake(), &fakeTester{}
	f, _ := newFlow(p, "aaaaaaa", tester)
	if _, err := f.DeployPreview(context.Background(), PreviewRequest{PR: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Release(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if len(tester.targets) != 2 || tester.targets[0].Production || !tester.targets[1].Production {
		t.Fatalf("tested %+v: want the preview as a preview, then the release as production", tester.targets)
	}
}
