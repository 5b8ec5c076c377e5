package local_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/local"
	"github.com/slipway/slipway/internal/testenv"
)

// release releases the builder's image an hour after the previous one, so
// each release gets its own stack name.
func (e *env) release(t *testing.T, img deploy.Image, env map[string]string, hoursLater int) deploy.ReleaseResult {
	t.Helper()
	e.builder.set(img)
	e.flow.Now = func() time.Time { return time.Now().Add(time.Duration(hoursLater) * time.Hour) }
	res, err := e.flow.Release(context.Background(), env)
	if err != nil {
		t.Fatalf("release %s: %v", img.Commit[:7], err)
	}
	return res
}

// Release v2 over v1 and roll back, under real traffic through the router:
// no request fails, every answer comes from v1 or v2, and after each shift
// the answers come from the stack that took the traffic.
func TestReleaseAndRollbackUnderLoadFailNoRequest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	prod := e.app + ".localhost"
	v1 := e.release(t, images.appA, nil, 0)
	stop := make(chan struct{})
	done := make(chan *loadResult)
	go func() { done <- runLoad(ctx, newLoad(), e.port, prod, 8, 20000, 90*time.Second, stop) }()
	time.Sleep(300 * time.Millisecond) // some load on v1 first
	v2 := e.release(t, images.appB, nil, 1)
	rb, err := e.flow.Rollback(ctx)
	close(stop)
	load := <-done
	if err != nil {
		t.Fatal(err)
	}
	if rb.Stack != v1.Stack || len(rb.From) != 1 || rb.From[0] != v2.Stack {
		t.Fatalf("rollback %+v, want back to %s from %s", rb, v1.Stack, v2.Stack)
	}
	if load.failed.Load() != 0 || load.total.Load() == 0 {
		t.Fatalf("%s; first failure: %s", load, load.firstErr)
	}
	if len(load.byCommit) > 2 || load.byCommit[commitA] == 0 {
		t.Fatalf("answers from unexpected commits: %s", load)
	}
	if c, _ := e.commitAt(prod); c != commitA {
		t.Fatalf("production serves %q after the rollback, want v1 %s", c, commitA)
	}
	t.Log(load)
}

func TestRollbackScalesUpAPreviousStackThatWasScaledToZero(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1 := e.release(t, images.appA, nil, 0)
	e.release(t, images.appB, nil, 1)
	if err := e.provider.ScaleDown(ctx, v1.Stack); err != nil {
		t.Fatal(err)
	}
	stacks, err := e.provider.Stacks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stacks {
		if s.Name == v1.Stack && (!s.Scaled || s.Healthy) {
			t.Fatalf("after scale down %s reads %+v, want scaled and not healthy", s.Name, s)
		}
	}
	if _, err := e.flow.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if c, code := e.commitAt(e.app + ".localhost"); c != commitA || code != 200 {
		t.Fatalf("after rollback production answers %d %q, want v1", code, c)
	}
}

// A canary of a release that fails a share of its requests is moved back
// automatically while production keeps serving the previous version.
func TestABrokenCanaryIsRolledBackAutomatically(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	prod := e.app + ".localhost"
	v2 := e.release(t, images.appA, nil, 0)
	e.flow.Strategy = deploy.Strategy{Steps: []int{20, 50, 100}, Bake: 2 * time.Second, MaxErrorRate: 0.01, MinRequests: 20}
	stop := make(chan struct{})
	done := make(chan *loadResult)
	go func() { done <- runLoad(ctx, newLoad(), e.port, prod, 4, 50000, 60*time.Second, stop) }()
	e.builder.set(images.appB)
	e.flow.Now = func() time.Time { return time.Now().Add(time.Hour) }
	_, err := e.flow.Release(ctx, map[string]string{"APP_FAIL_PERCENT": "30"})
	close(stop)
	load := <-done
	if !errors.Is(err, deploy.ErrCanaryFailed) || !strings.Contains(err.Error(), "error rate") {
		t.Fatalf("err = %v, want the canary's failed figures", err)
	}
	routes, rerr := e.provider.Routes(ctx)
	if rerr != nil || len(routes.Live()) != 1 || routes.Live()[0] != v2.Stack {
		t.Fatalf("production %+v (%v), want all on %s", routes.Production, rerr, v2.Stack)
	}
	if c, _ := e.commitAt(prod); c != commitA {
		t.Fatalf("production serves %q after the failed canary", c)
	}
	stacks, _ := e.provider.Stacks(ctx)
	failed := 0
	for _, s := range stacks {
		if s.State == deploy.StateFailed {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("want the canary stack marked failed: %+v", stacks)
	}
	t.Logf("%v; %s", err, load)
}

// A release whose tests fail never gets traffic, is marked failed and is
// never chosen by rollback.
func TestAReleaseThatFailsItsTestsIsMarkedFailed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1 := e.release(t, images.appA, nil, 0)
	e.flow.Tester = failingTester{}
	e.builder.set(images.appB)
	e.flow.Now = func() time.Time { return time.Now().Add(time.Hour) }
	bad, err := e.flow.Release(ctx, nil)
	if !errors.Is(err, deploy.ErrTestsFailed) {
		t.Fatalf("err = %v", err)
	}
	rows, err := e.flow.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]string{}
	for _, r := range rows {
		roles[r.Stack] = r.Role
	}
	if roles[bad.Stack] != deploy.RoleFailed || roles[v1.Stack] != deploy.RoleLive {
		t.Fatalf("status roles %v", roles)
	}
	if _, err := e.flow.Rollback(ctx); !errors.Is(err, deploy.ErrNothingToRollBack) {
		t.Fatalf("rollback with only a failed stack behind production: %v", err)
	}
}

// Two releases of one app: the second waits for the lock up to its bound,
// then fails naming the holder.
func TestASecondReleaseWaitsForTheLockThenNamesTheHolder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	lease, err := e.provider.TryLock(ctx, "alice@laptop", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	e.flow.LockWait, e.flow.Owner = 500*time.Millisecond, "ci"
	_, err = e.flow.Release(ctx, nil)
	var held *deploy.LockedError
	if !errors.As(err, &held) || held.Owner != "alice@laptop" {
		t.Fatalf("err = %v, want the holder named", err)
	}
	if err := lease.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.flow.Release(ctx, nil); err != nil {
		t.Fatalf("after the holder unlocked: %v", err)
	}
}

// Cleanup over a mix of stacks on the local target deletes exactly the
// stale ones: the release beyond SLIPWAY_KEEP_RELEASES, the failed release
// and the preview of a closed pull request; the live stack, the rollback
// target and the open preview stay, and production keeps serving.
func TestCleanupDeletesExactlyTheStaleStacks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1 := e.release(t, images.appA, nil, 0)
	v2 := e.release(t, images.appB, nil, 1)
	v3 := e.release(t, images.appA, map[string]string{"APP_MESSAGE": "v3"}, 2)
	e.flow.Tester = failingTester{}
	e.builder.set(images.appB)
	e.flow.Now = func() time.Time { return time.Now().Add(3 * time.Hour) }
	bad, err := e.flow.Release(ctx, map[string]string{"APP_MESSAGE": "v4"})
	if !errors.Is(err, deploy.ErrTestsFailed) {
		t.Fatalf("release with failing tests: %v", err)
	}
	e.flow.Tester = &httpTester{}
	e.builder.set(images.appA)
	for _, pr := range []int{1, 2} {
		if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: pr}); err != nil {
			t.Fatal(err)
		}
	}
	pol := deploy.CleanupPolicy{KeepReleases: 1, Retention: 24 * time.Hour, PreviewTTL: 24 * time.Hour, Parallel: 3}
	var log testenv.SyncBuffer // what the user reads
	opts := e.opts
	opts.Log = &log
	f := *e.flow
	f.Target, f.Log = local.New(e.cli, opts), &log
	plan, err := f.Cleanup(ctx, pol, closedPR(1), false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "retrying") {
		t.Errorf("cleanup told the user about its internal retries:\n%s", log.String())
	}
	stacks, err := e.provider.Stacks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for _, s := range stacks {
		left[s.Name] = true
	}
	for name, want := range map[string]bool{v3.Stack: true, v2.Stack: true, e.app + "-pr-2": true, v1.Stack: false, bad.Stack: false, e.app + "-pr-1": false} {
		if left[name] != want {
			t.Errorf("%s left=%v, want %v; plan %+v", name, left[name], want, plan)
		}
	}
	if c, code := e.commitAt(e.app + ".localhost"); c != commitA || code != 200 {
		t.Fatalf("production answers %d %q after cleanup", code, c)
	}
	if c, code := e.commitAt(e.host(2)); c != commitA || code != 200 {
		t.Fatalf("the open preview answers %d %q after cleanup", code, c)
	}
}

type closedPR int

func (c closedPR) PROpen(_ context.Context, pr int) (bool, error) { return pr != int(c), nil }

// With the router stopped, status still lists the stacks, marks them
// "router down" and says what to run.
func TestStatusWithTheRouterStoppedShowsTheStacksAndWhatToRun(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 5}); err != nil {
		t.Fatal(err)
	}
	timeout := 5
	if err := e.cli.ContainerStop(ctx, e.app+"-router", container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	e.flow.TargetName = "local"
	rows, err := e.flow.Status(ctx)
	var down *deploy.RouterDownError
	if !errors.As(err, &down) || len(rows) != 1 || rows[0].Stack != e.app+"-pr-5" || rows[0].Health != "router down" {
		t.Fatalf("status: rows %+v err %v", rows, err)
	}
	if hint := e.flow.RouterHint(err); !strings.Contains(hint, "docker start "+e.app+"-router") {
		t.Fatalf("hint %q", hint)
	}
}

// A branch preview carries its branch in status, and once the branch is
// gone it can be destroyed by its stack name.
func TestABranchPreviewShowsItsBranchAndIsDestroyedByStackName(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	res, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{Branch: "feat/login-page"})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := e.flow.Status(ctx)
	if err != nil || len(rows) != 1 || rows[0].Source != "feat/login-page" || rows[0].Role != deploy.RolePreview {
		t.Fatalf("status %+v %v", rows, err)
	}
	if err := e.flow.DestroyStack(ctx, res.Stack); err != nil {
		t.Fatal(err)
	}
	if stacks, err := e.provider.Stacks(ctx); err != nil || len(stacks) != 0 {
		t.Fatalf("stacks left after destroying %s: %+v %v", res.Stack, stacks, err)
	}
}
