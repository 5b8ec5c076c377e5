package deploy

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/manifest"
)

// fakeClock is a deploy clock that moves only when a test moves it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// waitingTarget is the fake target reporting a health wait inside Deploy,
// as both targets do; with a clock, the wait takes healthWait on it.
type waitingTarget struct {
	*fakeProvider
	clock      *fakeClock
	healthWait time.Duration
}

func (w waitingTarget) Deploy(ctx context.Context, s Spec) (Stack, error) {
	began := Now(ctx)
	if w.clock != nil {
		w.clock.advance(w.healthWait)
	}
	RecordPhase(ctx, Phase{Name: PhaseHealthy, Took: Since(ctx, began), Setting: HealthSetting(s.Health, manifest.LocalHealth)})
	return w.fakeProvider.Deploy(ctx, s)
}

func phaseNames(t *Timing) []string {
	var out []string
	for _, p := range t.Phases {
		out = append(out, p.Name)
	}
	return out
}

// checkTiming checks presence, order and sum, never a number.
func checkTiming(t *testing.T, tm *Timing, op string, want ...string) {
	t.Helper()
	if tm == nil {
		t.Fatalf("%s: no timing", op)
	}
	if tm.Op != op {
		t.Errorf("timing of %q, want %q", tm.Op, op)
	}
	if got := strings.Join(phaseNames(tm), ", "); got != strings.Join(want, ", ") {
		t.Errorf("%s phases:\n got %s\nwant %s", op, got, strings.Join(want, ", "))
	}
	var sum time.Duration
	for _, p := range tm.Phases {
		if p.Took < 0 {
			t.Errorf("%s: phase %s took less than nothing", op, p.Name)
		}
		sum += p.Took
	}
	if sum > tm.Total {
		t.Errorf("%s: the phases sum to more than the total", op)
	}
}

func TestEveryDeployHasItsPhasesInOrderAndTheySumToAtMostTheTotal(t *testing.T) {
	ctx := context.Background()
	p := newFake()
	f, rec := newFlow(p, "aaaaaaa", &fakeTester{})
	f.Target = waitingTarget{fakeProvider: p}

	res, err := f.DeployPreview(ctx, PreviewRequest{PR: 42})
	if err != nil {
		t.Fatal(err)
	}
	// No database: that phase is absent, not zero.
	checkTiming(t, res.Timing, "preview", PhaseBuild, PhaseStack, PhaseHealthy, PhaseShift, PhaseTests)
	if last := rec.events[len(rec.events)-1]; last.Timing == nil || last.Timing != res.Timing {
		t.Errorf("the deployed event should carry the timing: %+v", last)
	}
	again, err := f.DeployPreview(ctx, PreviewRequest{PR: 42})
	if err != nil {
		t.Fatal(err)
	}
	// The host already routes to the stack: no shift this time.
	checkTiming(t, again.Timing, "preview", PhaseBuild, PhaseStack, PhaseHealthy, PhaseTests)

	first, err := f.Release(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkTiming(t, first.Timing, "release", PhaseBuild, PhaseStack, PhaseHealthy, PhaseTests, PhaseShift)
	f.Builder, f.Now = fakeBuilder{"bbbbbbb"}, func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	if _, err := f.Release(ctx, nil); err != nil {
		t.Fatal(err)
	}
	same, err := f.Release(ctx, nil)
	if err != nil || !same.Unchanged {
		t.Fatalf("release again: %+v, %v", same, err)
	}
	checkTiming(t, same.Timing, "release", PhaseBuild)

	rb, err := f.Rollback(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkTiming(t, rb.Timing, "rollback", PhaseShift)
}

func TestAFailedReleaseIsTimedUpToItsFailure(t *testing.T) {
	p := newFake()
	f, _ := newFlow(p, "bad0000", &fakeTester{fail: map[string]bool{"bad0000": true}})
	res, err := f.Release(context.Background(), nil)
	if err == nil {
		t.Fatal("the release should fail its tests")
	}
	checkTiming(t, res.Timing, "release", PhaseBuild, PhaseStack, PhaseTests)
}

func TestCleanupIsTimedWhenItChangesSomething(t *testing.T) {
	ctx := context.Background()
	p := newFake()
	f, _ := newFlow(p, "aaaaaaa", &fakeTester{})
	if _, err := f.DeployPreview(ctx, PreviewRequest{PR: 7}); err != nil {
		t.Fatal(err)
	}
	pol := CleanupPolicy{KeepReleases: 2, PreviewTTL: time.Hour, Parallel: 1}
	_, tm, err := f.CleanupTimed(ctx, pol, closedPR(7), true)
	if err != nil {
		t.Fatal(err)
	}
	checkTiming(t, tm, "cleanup") // a dry run changes nothing
	plan, tm, err := f.CleanupTimed(ctx, pol, closedPR(7), false)
	if err != nil || len(plan) == 0 {
		t.Fatalf("cleanup: %v, %+v", err, plan)
	}
	checkTiming(t, tm, "cleanup", PhaseDelete)
}

func TestTheTableNamesTheHealthWaitAndItsSettingWhenItIsTheSlowest(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	p := newFake()
	f, _ := newFlow(p, "aaaaaaa", &fakeTester{})
	f.Clock = clock.now
	f.Manifest = &manifest.Manifest{Health: manifest.Health{Interval: 2 * time.Second, HealthyThreshold: 3}}
	f.Target = waitingTarget{fakeProvider: p, clock: clock, healthWait: 40 * time.Second}
	res, err := f.DeployPreview(context.Background(), PreviewRequest{PR: 42})
	if err != nil {
		t.Fatal(err)
	}
	slow, ok := res.Timing.Slowest()
	if !ok || slow.Name != PhaseHealthy {
		t.Fatalf("slowest %+v, want the health wait", slow)
	}
	var b strings.Builder
	if err := WriteTiming(&b, *res.Timing); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	t.Log("\n" + out)
	last := 0
	for _, name := range append(phaseNames(res.Timing), "total", "slowest: "+PhaseHealthy) {
		i := strings.Index(out, name)
		if i < last {
			t.Fatalf("%q missing or out of order in:\n%s", name, out)
		}
		last = i
	}
	if !strings.Contains(out, "health.interval 2s, health.healthy_threshold 3") {
		t.Errorf("the slowest line should name the health settings in force:\n%s", out)
	}
}

func TestATargetsPhasesAreCarvedOutOfTheCallThatHoldsThem(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	f := &Flow{Clock: clock.now}
	ctx, tm := f.startTimer(context.Background())
	err := tm.phase(PhaseStack, func() error {
		clock.advance(time.Second)
		began := Now(ctx)
		clock.advance(3 * time.Second)
		RecordPhase(ctx, Phase{Name: PhaseHealthy, Took: Since(ctx, began)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := tm.done("preview", "shop-pr-1")
	checkTiming(t, got, "preview", PhaseStack, PhaseHealthy)
	if got.Phases[0].Took >= got.Phases[1].Took {
		t.Errorf("the stack phase should be what the health wait leaves of the call: %+v", got.Phases)
	}
	RecordPhase(context.Background(), Phase{Name: "nowhere"}) // no timer: nothing happens
}

func TestACanaryShiftNamesItsStepsAndBakeAsItsSettings(t *testing.T) {
	f := &Flow{Strategy: Strategy{Steps: []int{10, 50, 100}, Bake: 5 * time.Minute}}
	p := f.shiftPhase([]Weight{{Stack: "shop-prod-1", Weight: 100}})
	if p.Name != PhaseShift || !strings.Contains(p.Setting, "SLIPWAY_CANARY_STEPS 10,50,100") || !strings.Contains(p.Setting, "SLIPWAY_CANARY_BAKE 5m0s") {
		t.Errorf("canary shift %+v", p)
	}
	if p := f.shiftPhase(nil); p.Setting != "" || p.Note != "" {
		t.Errorf("the first release moves all at once, no canary: %+v", p)
	}
}
