package deploy

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// mixedStacks is a fixture of every kind of stack cleanup meets.
func mixedStacks(now time.Time) ([]Stack, Routes) {
	h := time.Hour
	prod := func(name string, created, lastLive time.Duration) Stack {
		s := Stack{Name: name, Role: RoleProduction, Commit: "1234567", Created: now.Add(-created), Healthy: true}
		if lastLive >= 0 {
			s.LastLive = now.Add(-lastLive)
		}
		return s
	}
	stacks := []Stack{
		prod("shop-prod-live", 2*h, 0),
		prod("shop-prod-prev1", 30*h, 2*h),            // rollback target, past the warm window
		prod("shop-prod-prev2", 60*h, 30*h),           // second kept release
		prod("shop-prod-prev3", 90*h, 60*h),           // beyond KEEP_RELEASES=2
		prod("shop-prod-ancient", 900*h, 800*h),       // beyond, and past retention
		prod("shop-prod-interrupted", 400*h, -1),      // never live, older than retention
		prod("shop-prod-testing", 10*time.Minute, -1), // never live, being released
		{Name: "shop-prod-bad", Role: RoleProduction, Created: now.Add(-h), State: StateFailed},
		{Name: "shop-prod-busy", Role: RoleProduction, Created: now.Add(-900 * h), LastLive: now.Add(-800 * h), Busy: true, Status: "UPDATE_IN_PROGRESS"},
		{Name: "shop-shared", Role: RoleProduction, Created: now.Add(-2000 * h)},
		{Name: "shop-pr-1", Role: RolePreview, PR: 1, Created: now.Add(-h)},           // PR closed
		{Name: "shop-pr-2", Role: RolePreview, PR: 2, Created: now.Add(-h)},           // open, fresh
		{Name: "shop-pr-3", Role: RolePreview, PR: 3, Created: now.Add(-200 * h)},     // idle past the TTL
		{Name: "shop-br-x", Role: RolePreview, Branch: "x", Created: now.Add(-2 * h)}, // branch preview, fresh
	}
	return stacks, Routes{Production: []Weight{{Stack: "shop-prod-live", Weight: 100}}}
}

var testPolicy = CleanupPolicy{KeepReleases: 2, Retention: 14 * 24 * time.Hour, Warm: time.Hour, PreviewTTL: 7 * 24 * time.Hour, Parallel: 4}

func TestCleanupPlanKeepsWhatMustStayAndSaysWhy(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	stacks, routes := mixedStacks(now)
	plan := Plan("shop", stacks, routes, testPolicy, map[int]bool{1: true}, now)
	var b bytes.Buffer
	if err := PrintPlan(&b, plan); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "cleanup-plan.golden", b.Bytes())
	for _, it := range plan {
		never := map[string]bool{"shop-prod-live": true, "shop-prod-prev1": true, "shop-shared": true, "shop-prod-busy": true}
		if never[it.Stack] && it.Action == ActionDelete {
			t.Fatalf("the plan deletes %s (%s)", it.Stack, it.Reason)
		}
	}
}

func TestCleanupDeletesExactlyTheStaleStacksAndScalesDownTheWarmOnes(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	stacks, routes := mixedStacks(now)
	p := newFake()
	for _, s := range stacks {
		p.stacks[s.Name] = s
	}
	p.routes.Production = routes.Production
	f, _ := newFlow(p, "aaaaaaa", &fakeTester{})
	f.Now = func() time.Time { return now }
	if _, err := f.Cleanup(context.Background(), testPolicy, closedPRs{1}, true); err != nil {
		t.Fatal(err)
	}
	if len(p.calls) != 0 {
		t.Fatalf("a dry run changed something: %v", p.calls)
	}
	if _, err := f.Cleanup(context.Background(), testPolicy, closedPRs{1}, false); err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, s := range stacks {
		if _, ok := p.stacks[s.Name]; ok {
			left = append(left, s.Name)
		}
	}
	want := "shop-prod-live shop-prod-prev1 shop-prod-prev2 shop-prod-testing shop-prod-busy shop-shared shop-pr-2 shop-br-x"
	if strings.Join(left, " ") != want {
		t.Fatalf("left %v\nwant %s", left, want)
	}
	if !p.stacks["shop-prod-prev1"].Scaled || !p.stacks["shop-prod-prev2"].Scaled {
		t.Fatal("kept previous stacks past the warm window should be scaled to zero")
	}
}

type closedPRs []int

func (c closedPRs) PROpen(_ context.Context, pr int) (bool, error) {
	for _, x := range c {
		if x == pr {
			return false, nil
		}
	}
	return true, nil
}

// BenchmarkCleanupPlan500 plans over 500 stacks (the fake provider pages
// nothing: a target's own pagination is tested with the target).
func BenchmarkCleanupPlan500(b *testing.B) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	p := newFake()
	for i := 0; i < 500; i++ {
		s := Stack{Name: fmt.Sprintf("shop-prod-%04d", i), Role: RoleProduction, Created: now.Add(-time.Duration(i) * time.Hour), LastLive: now.Add(-time.Duration(i) * time.Hour), Healthy: true}
		if i%3 == 0 {
			s = Stack{Name: fmt.Sprintf("shop-pr-%d", i), Role: RolePreview, PR: i, Created: now.Add(-time.Duration(i) * time.Hour)}
		}
		p.stacks[s.Name] = s
	}
	p.routes.Production = []Weight{{Stack: "shop-prod-0001", Weight: 100}}
	f, _ := newFlow(p, "aaaaaaa", &fakeTester{})
	f.Now = func() time.Time { return now }
	b.ResetTimer()
	var plan []PlanItem
	for i := 0; i < b.N; i++ {
		var err error
		if plan, err = f.Cleanup(context.Background(), testPolicy, closedPRs{3, 6}, true); err != nil {
			b.Fatal(err)
		}
	}
	del := 0
	for _, it := range plan {
		if it.Action == ActionDelete {
			del++
		}
	}
	b.ReportMetric(float64(del), "deletions")
	b.ReportMetric(float64(len(plan)), "stacks")
}

// countingDeleter tracks how many deletions run at once. Its first
// deletion waits (bounded) for a second one to start, so deletions that
// really run in parallel are seen to overlap and serial ones are not.
type countingDeleter struct {
	*fakeProvider
	mu       sync.Mutex
	cur, max int
	second   chan struct{} // closed when two deletions run at once
	once     sync.Once
}

func (c *countingDeleter) Delete(ctx context.Context, stack string) error {
	c.mu.Lock()
	c.cur++
	c.max = max(c.max, c.cur)
	if c.cur >= 2 {
		c.once.Do(func() { close(c.second) })
	}
	c.mu.Unlock()
	select {
	case <-c.second:
	case <-time.After(2 * time.Second): // serial deletions: never two at once
	}
	time.Sleep(time.Millisecond) // the work of a deletion, so that others overlap it
	err := c.fakeProvider.Delete(ctx, stack)
	c.mu.Lock()
	c.cur--
	c.mu.Unlock()
	return err
}

func TestCleanupDeletesInParallelWithinTheBound(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	p := newFake()
	for i := 0; i < 40; i++ {
		name := fmt.Sprintf("shop-pr-%d", i+1)
		p.stacks[name] = Stack{Name: name, Role: RolePreview, PR: i + 1, Created: now.Add(-30 * 24 * time.Hour)}
	}
	c := &countingDeleter{fakeProvider: p, second: make(chan struct{})}
	f, _ := newFlow(p, "aaaaaaa", &fakeTester{})
	f.Target, f.Now = c, func() time.Time { return now }
	pol := testPolicy
	pol.Parallel = 3
	if _, err := f.Cleanup(context.Background(), pol, nil, false); err != nil {
		t.Fatal(err)
	}
	if len(p.stacks) != 0 || c.max > 3 || c.max < 2 {
		t.Fatalf("%d stacks left, %d deletions at once: want 2 or 3 (bound 3)", len(p.stacks), c.max)
	}
}

// Cleanup removes the image tags of the stacks it deleted (a clean and a
// dirty commit's, a closed pull request's), and keeps every tag a stack
// that stays still runs.
func TestCleanupRemovesTheImageTagsOfTheStacksItDeleted(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	p := newFake()
	old := now.Add(-30 * 24 * time.Hour)
	p.stacks = map[string]Stack{
		"shop-prod-1": {Name: "shop-prod-1", Role: RoleProduction, Commit: "aaaaaaa1", Created: old, LastLive: old},
		"shop-prod-2": {Name: "shop-prod-2", Role: RoleProduction, Commit: "bbbbbbb2", Dirty: true, Created: old.Add(time.Hour), LastLive: old.Add(time.Hour)},
		"shop-prod-3": {Name: "shop-prod-3", Role: RoleProduction, Commit: "ccccccc3", Created: now.Add(-2 * time.Hour), LastLive: now.Add(-time.Hour), Healthy: true},
		"shop-prod-4": {Name: "shop-prod-4", Role: RoleProduction, Commit: "ddddddd4", Created: now.Add(-time.Hour), Healthy: true},
		"shop-pr-7":   {Name: "shop-pr-7", Role: RolePreview, PR: 7, Commit: "aaaaaaa1", Created: now},
		"shop-pr-8":   {Name: "shop-pr-8", Role: RolePreview, PR: 8, Commit: "eeeeeee5", Created: now},
	}
	p.routes.Production = []Weight{{Stack: "shop-prod-4", Weight: 100}}
	f, _ := newFlow(p, "aaaaaaa", &fakeTester{})
	b := &taggingBuilder{fakeBuilder: fakeBuilder{commit: "aaaaaaa"}}
	f.Builder, f.Now = b, func() time.Time { return now }
	pol := testPolicy
	pol.KeepReleases = 1
	if _, err := f.Cleanup(context.Background(), pol, closedPR(8), false); err != nil {
		t.Fatal(err)
	}
	want := "bbbbbbb-dirty eeeeeee pr-8" // aaaaaaa stays: the open preview #7 runs it
	if got := strings.Join(b.removed, " "); got != want {
		t.Fatalf("removed tags %q, want %q; stacks left %v", got, want, p.stacks)
	}
}

type closedPR int

func (c closedPR) PROpen(_ context.Context, pr int) (bool, error) { return pr != int(c), nil }
