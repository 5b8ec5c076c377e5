package local_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/slipway/slipway/internal/deploy"
)

// canaryTarget polls the router table until production is split between
// two stacks and returns the router target of the one that is not old.
func (e *env) canaryTarget(t *testing.T, old string) string {
	t.Helper()
	var name string
	waitFor(t, "the canary split in the router table", func() bool {
		tb, err := e.provider.Router().Table(context.Background())
		if err != nil {
			return false
		}
		stackOf := map[string]string{}
		for _, tg := range tb.Targets {
			stackOf[tg.Name] = tg.Stack
		}
		live := 0
		for _, w := range tb.Production {
			if w.Weight > 0 {
				live++
				if stackOf[w.Target] != old {
					name = w.Target
				}
			}
		}
		return live == 2 && name != ""
	})
	return name
}

// The new stack's container dies during the first canary step's bake: the
// step fails as a canary failure naming the target and the router's last
// health check error, and production is all back on the old stack. (Before
// the local Sample said whether targets were healthy, the step passed on
// too few requests and the release failed only at the next step's refusal
// to weight an unhealthy stack, without the canary's words.)
func TestACanaryWhoseStackDiesDuringTheBakeFailsNamingTheTargetsHealth(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	prod := e.app + ".localhost"
	v1 := e.release(t, images.appA, nil, 0)
	e.flow.Strategy = deploy.Strategy{Steps: []int{20, 100}, Bake: 6 * time.Second, MaxErrorRate: 0.01, MinRequests: 20}
	e.builder.set(images.appB)
	e.flow.Now = func() time.Time { return time.Now().Add(time.Hour) }
	errc := make(chan error, 1)
	go func() { _, err := e.flow.Release(ctx, nil); errc <- err }()
	canary := e.canaryTarget(t, v1.Stack)
	if err := e.cli.ContainerKill(ctx, canary, "SIGKILL"); err != nil {
		t.Fatalf("kill the canary's container %s: %v", canary, err)
	}
	err := <-errc
	for _, want := range []string{"at 20%", "not healthy at the end of the bake", canary + ": GET /healthz"} {
		if !errors.Is(err, deploy.ErrCanaryFailed) || !strings.Contains(err.Error(), want) {
			t.Fatalf("release: %v\nwant a canary failure saying %q", err, want)
		}
	}
	routes, rerr := e.provider.Routes(ctx)
	if rerr != nil || len(routes.Live()) != 1 || routes.Live()[0] != v1.Stack {
		t.Fatalf("production %+v (%v), want all back on %s", routes.Production, rerr, v1.Stack)
	}
	if c, code := e.commitAt(prod); c != commitA || code != 200 {
		t.Fatalf("production answers %d %q after the failed canary, want v1", code, c)
	}
	tb, terr := e.provider.Router().Table(ctx)
	if len(tb.LastLive) != 1 || tb.LastLive[v1.Stack].IsZero() {
		t.Fatalf("last_live after the failed canary: %v (%v), want only %s's: the failed stack's record goes with it", tb.LastLive, terr, v1.Stack)
	}
	t.Log(err)
}

// stackNamed reads the stack as Stacks reports it.
func (e *env) stackNamed(t *testing.T, stack string) deploy.Stack {
	t.Helper()
	stacks, err := e.provider.Stacks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stacks {
		if s.Name == stack {
			return s
		}
	}
	t.Fatalf("stack %s is gone: %+v", stack, stacks)
	return deploy.Stack{}
}

func planFor(plan []deploy.PlanItem, stack string) deploy.PlanItem {
	for _, it := range plan {
		if it.Stack == stack {
			return it
		}
	}
	return deploy.PlanItem{}
}

// v2 is released, rolled back from, then scaled to zero by cleanup's warm
// window: it keeps the time it was last live (the rollback), so status
// shows it as the previous release, a later cleanup judges it by that time
// instead of as a release that never took traffic, and `rollback -to`
// brings it back. Deleting a stack drops its record.
func TestAStackScaledToZeroKeepsWhenItWasLastLiveAndStaysTheRollbackTarget(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1 := e.release(t, images.appA, nil, 0)
	v2 := e.release(t, images.appB, nil, 1)
	if _, err := e.flow.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	s2 := e.stackNamed(t, v2.Stack)
	wasLive := s2.LastLive
	if wasLive.IsZero() || time.Since(wasLive) > time.Minute {
		t.Fatalf("after the rollback %s was last live %v, want the rollback's time", v2.Stack, wasLive)
	}
	pol := deploy.CleanupPolicy{KeepReleases: 1, Warm: time.Millisecond, Retention: 24 * time.Hour, Parallel: 1}
	plan, err := e.flow.Cleanup(ctx, pol, closedPR(0), false)
	if it := planFor(plan, v2.Stack); err != nil || it.Action != deploy.ActionScaleDown {
		t.Fatalf("cleanup: %v; %s: %+v, want scaled down (warm window)", err, v2.Stack, it)
	}
	if s := e.stackNamed(t, v2.Stack); !s.Scaled || !s.LastLive.Equal(wasLive) {
		t.Fatalf("after scale to zero %s: scaled=%v last live %v, want scaled and still %v", v2.Stack, s.Scaled, s.LastLive, wasLive)
	}
	rows, err := e.flow.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Stack == v2.Stack && (r.Role != deploy.RolePrevious || r.LastLive == "never") {
			t.Fatalf("status of the scaled stack: %+v, want previous with its last-live time", r)
		}
	}
	waitFor(t, v2.Stack+" older than a 2s retention", func() bool { return time.Since(s2.Created) > 3*time.Second })
	pol.Retention = 2 * time.Second
	plan, err = e.flow.Cleanup(ctx, pol, closedPR(0), true) // the plan only
	if it := planFor(plan, v2.Stack); err != nil || it.Role != deploy.RolePrevious || strings.Contains(it.Reason, "never took traffic") {
		t.Fatalf("cleanup with a short retention: %v; %s: %+v, want judged as a previous release by when it was last live, not as one that never took traffic", err, v2.Stack, it)
	}
	// A plain rollback walks back in release order (v1 is the oldest):
	// going forward to v2 is named.
	rb, err := e.flow.RollbackTo(ctx, v2.Stack)
	if err != nil || rb.Stack != v2.Stack {
		t.Fatalf("rollback -to: %+v %v, want back to the scaled %s", rb, err, v2.Stack)
	}
	if c, code := e.commitAt(e.app + ".localhost"); c != commitB || code != 200 {
		t.Fatalf("after rollback production answers %d %q, want v2", code, c)
	}
	if err := e.provider.ScaleDown(ctx, v1.Stack); err != nil {
		t.Fatal(err)
	}
	if s := e.stackNamed(t, v1.Stack); !s.Scaled || s.LastLive.IsZero() || s.LastLive.Before(wasLive) {
		t.Fatalf("%s scaled to zero after the second rollback: %+v, want its last-live time kept", v1.Stack, s)
	}
	if err := e.provider.Delete(ctx, v1.Stack); err != nil {
		t.Fatal(err)
	}
	tb, err := e.provider.Router().Table(ctx)
	if _, kept := tb.LastLive[v1.Stack]; err != nil || kept || tb.LastLive[v2.Stack].IsZero() {
		t.Fatalf("last_live after deleting %s: %v (%v), want only %s's record", v1.Stack, tb.LastLive, err, v2.Stack)
	}
}

// A stack scaled to zero whose container is then removed by hand (not
// through slipway) loses its last_live record at the next change of
// production, as a deleted stack's record on aws goes at the next shift.
func TestTheRecordOfAStackRemovedByHandGoesAtTheNextProductionChange(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1 := e.release(t, images.appA, nil, 0)
	v2 := e.release(t, images.appB, nil, 1)
	if err := e.provider.ScaleDown(ctx, v1.Stack); err != nil {
		t.Fatal(err)
	}
	if tb, err := e.provider.Router().Table(ctx); err != nil || tb.LastLive[v1.Stack].IsZero() {
		t.Fatalf("last_live after scaling %s to zero: %v (%v), want its record kept", v1.Stack, tb.LastLive, err)
	}
	opts := containerList(e.app, v1.Stack)
	opts.All = true // it is stopped
	cs, err := e.cli.ContainerList(ctx, opts)
	if err != nil || len(cs) != 1 {
		t.Fatalf("containers of %s: %d (%v), want 1", v1.Stack, len(cs), err)
	}
	if err := e.cli.ContainerRemove(ctx, cs[0].ID, container.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if err := e.provider.SetProduction(ctx, []deploy.Weight{{Stack: v2.Stack, Weight: 100}}); err != nil {
		t.Fatal(err)
	}
	tb, err := e.provider.Router().Table(ctx)
	if _, kept := tb.LastLive[v1.Stack]; err != nil || kept || tb.LastLive[v2.Stack].IsZero() {
		t.Fatalf("last_live after the next production change: %v (%v), want only %s's record", tb.LastLive, err, v2.Stack)
	}
}
