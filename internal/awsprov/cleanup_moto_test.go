package awsprov

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/deploy"
)

// openPRs answers as GitHub would: every pull request is open but those
// listed closed.
type openPRs map[int]bool

func (c openPRs) PROpen(_ context.Context, pr int) (bool, error) { return !c[pr], nil }

// testCleanupAndColdRollback: cleanup over a mix of stacks deletes exactly
// the stale ones (an old release past the kept count, a failed release, the
// preview of a closed PR) and never the live stack, the rollback target
// (scaled to zero after the warm window instead) or the shared stack; a
// rollback to that scaled stack scales it up and waits for a healthy target
// before its one ModifyRule.
func testCleanupAndColdRollback(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	l := newLifeEnv(t, e, "tidy")
	var names []string
	for n := 1; n <= 4; n++ {
		l.tester.set(n == 3)
		_, err := l.release(t, n, deploy.ReleaseRequest{})
		if (err != nil) != (n == 3) {
			t.Fatalf("release %d: %v", n, err)
		}
		names = append(names, l.name(t, n))
	}
	l.tester.set(false)
	v1, v2, v3, v4 := names[0], names[1], names[2], names[3]
	for _, pr := range []int{5, 6} {
		_, err := l.p.Deploy(ctx, previewSpec("tidy", pr, "tidy.example.com"))
		must(t, err)
	}
	l.f.Now = func() time.Time { return time.Now().Add(time.Hour) }
	pol := deploy.CleanupPolicy{KeepReleases: 1, Retention: 14 * 24 * time.Hour, Warm: 30 * time.Minute, PreviewTTL: 7 * 24 * time.Hour, Parallel: 4}
	plan, err := l.f.Cleanup(ctx, pol, openPRs{5: true}, false)
	must(t, err)
	want := map[string]string{v1: deploy.ActionDelete, v2: deploy.ActionScaleDown, v3: deploy.ActionDelete, v4: deploy.ActionKeep,
		"tidy-pr-5": deploy.ActionDelete, "tidy-pr-6": deploy.ActionKeep}
	for _, it := range plan {
		if want[it.Stack] != it.Action {
			t.Errorf("plan: %s %s (%s), want %q", it.Stack, it.Action, it.Reason, want[it.Stack])
		}
	}
	if len(plan) != len(want) {
		t.Errorf("plan has %d stacks, want %d: %+v", len(plan), len(want), plan)
	}
	st := l.stacks(t)
	var left []string
	for n := range st {
		left = append(left, n)
	}
	slices.Sort(left)
	wantLeft := []string{v2, v4, "tidy-pr-6"}
	slices.Sort(wantLeft)
	if !slices.Equal(left, wantLeft) {
		t.Errorf("stacks after cleanup %v, want %v", left, wantLeft)
	}
	if !st[v2].Scaled || st[v2].Healthy || st[v4].Scaled {
		t.Errorf("after cleanup v2 %+v, v4 %+v; want the rollback target scaled to zero, the live one not", st[v2], st[v4])
	}
	if shared, err := l.p.eng.Describe(ctx, "tidy-shared"); err != nil || shared.State != cfnstack.StateHealthy {
		t.Errorf("shared stack after cleanup: %v, %v; want it untouched", shared.State, err)
	}
	l.production(t, v4)
	coldRollback(t, l, v2, v4)
}

// coldRollback rolls back to the scaled-to-zero stack cold. AWS: ECS
// deregisters the tasks it stops, so a stack scaled to zero has no
// targets; after the scale-up its new task registers as "initial" until
// two health checks pass. moto keeps targets registered and healthy, so
// DescribeTargetHealth is answered that way in front of it.
func coldRollback(t *testing.T, l *lifeEnv, cold, live string) {
	ctx, e := context.Background(), l.e
	tg := stackOutput(t, e, cold, "TargetGroupArn")
	var mu sync.Mutex
	var seq []string
	note := func(s string) { mu.Lock(); seq = append(seq, s); mu.Unlock() }
	initial := 0
	e.inj.on("DescribeTargetHealth", func(params any, next func() (any, error)) (any, error) {
		in := params.(*elbv2.DescribeTargetHealthInput)
		if aws.ToString(in.TargetGroupArn) != tg {
			return next()
		}
		if stackParam(t, e, cold, paramDesired) == "0" {
			note("no targets")
			return &elbv2.DescribeTargetHealthOutput{}, nil
		}
		if initial < 2 {
			initial++
			note("initial")
			return &elbv2.DescribeTargetHealthOutput{TargetHealthDescriptions: []elbtypes.TargetHealthDescription{{
				Target:       &elbtypes.TargetDescription{Id: aws.String("10.42.9.9")},
				TargetHealth: &elbtypes.TargetHealth{State: elbtypes.TargetHealthStateEnumInitial, Reason: elbtypes.TargetHealthReasonEnumInitialHealthChecking},
			}}}, nil
		}
		note("healthy")
		return next()
	})
	e.inj.on("UpdateStack", func(params any, next func() (any, error)) (any, error) {
		note("UpdateStack " + aws.ToString(params.(*cloudformation.UpdateStackInput).StackName))
		return next()
	})
	e.inj.on("ModifyRule", func(_ any, next func() (any, error)) (any, error) { note("ModifyRule"); return next() })
	defer func() {
		for _, op := range []string{"DescribeTargetHealth", "UpdateStack", "ModifyRule"} {
			e.inj.on(op, nil)
		}
	}()
	rb, err := l.f.Rollback(ctx)
	must(t, err)
	if rb.Stack != cold || len(rb.From) != 1 || rb.From[0] != live {
		t.Errorf("rollback %+v, want to %s from %s", rb, cold, live)
	}
	l.production(t, cold)
	mu.Lock()
	defer mu.Unlock()
	up, healthy, modify := slices.IndexFunc(seq, func(s string) bool { return len(s) > 11 && s[:11] == "UpdateStack" }), slices.Index(seq, "healthy"), slices.Index(seq, "ModifyRule")
	if up < 0 || initial != 2 || healthy < up || modify < healthy || slices.Index(seq[modify+1:], "ModifyRule") >= 0 {
		t.Errorf("rollback did %v; want the scale-up, the wait through initial targets to a healthy one, then one ModifyRule", seq)
	}
	if s := l.stacks(t)[cold]; s.Scaled || !s.Healthy {
		t.Errorf("after the rollback %s reads %+v, want scaled up and healthy", cold, s)
	}
}
