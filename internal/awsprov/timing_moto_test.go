package awsprov

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/deploy/timingtest"
)

// testTimingNamesTheHealthWait: a preview and a release on moto whose
// target groups are slow to turn healthy, as real ALBs are (moto's targets
// are healthy at once): DescribeTargetHealth, which the deploy polls
// anyway, answers "initial" for twice as long as everything before the
// wait took. The timing has ECS running and the health wait after the
// stack's own phase, and its table names the health wait as the slowest
// phase with the health check settings in force. No extra API calls:
// the phases are read from the polls the deploy makes.
func testTimingNamesTheHealthWait(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	p := e.provider("clock", "")
	p.o.HealthTimeout = 30 * time.Second
	p.o.Shared.PreviewPortFirst, p.o.Shared.PreviewPortLast = 9121, 9130
	must(t, p.EnsureShared(ctx))
	shared, err := p.Shared(ctx)
	must(t, err)
	img := &fixedImage{img: image(1)}
	f := &deploy.Flow{App: "clock", Target: p, Builder: img, Tester: passTester{}, Log: e.log,
		Routing: portRouting{p: p, alb: shared.LoadBalancerDNSName}, Now: func() time.Time { return time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC) }}

	var mu sync.Mutex
	var started, healthyAt time.Time
	e.inj.on("DescribeTargetHealth", func(params any, next func() (any, error)) (any, error) {
		mu.Lock()
		if healthyAt.IsZero() { // the first poll of this deploy: it waits twice what came before
			healthyAt = time.Now().Add(2*time.Since(started) + 500*time.Millisecond)
		}
		wait := time.Now().Before(healthyAt)
		mu.Unlock()
		if !wait {
			return next()
		}
		in := params.(*elbv2.DescribeTargetHealthInput)
		return &elbv2.DescribeTargetHealthOutput{TargetHealthDescriptions: []elbtypes.TargetHealthDescription{{
			Target: &elbtypes.TargetDescription{Id: aws.String("10.0.1.7"), Port: aws.Int32(8080)},
			TargetHealth: &elbtypes.TargetHealth{State: elbtypes.TargetHealthStateEnumInitial,
				Reason: elbtypes.TargetHealthReasonEnumRegistrationInProgress, Description: aws.String("Target registration is in progress: " + aws.ToString(in.TargetGroupArn))},
		}}}, nil
	})
	defer e.inj.on("DescribeTargetHealth", nil)
	restart := func() {
		mu.Lock()
		started, healthyAt = time.Now(), time.Time{}
		mu.Unlock()
	}

	restart()
	polls := e.inj.count("DescribeServices")
	res, err := f.DeployPreview(ctx, deploy.PreviewRequest{PR: 3})
	must(t, err)
	checkAWSTiming(t, res.Timing, deploy.PhaseBuild, deploy.PhaseStack, deploy.PhaseRunning, deploy.PhaseHealthy, deploy.PhaseTests)
	if n := e.inj.count("DescribeServices") - polls; n > 3 {
		t.Errorf("the timing took %d DescribeServices, want the deploy's own few", n)
	}

	restart()
	rel, err := f.Release(ctx, nil)
	must(t, err)
	checkAWSTiming(t, rel.Timing, deploy.PhaseBuild, deploy.PhaseStack, deploy.PhaseRunning, deploy.PhaseHealthy, deploy.PhaseTests, deploy.PhaseShift)
	var b strings.Builder
	must(t, deploy.WriteTiming(&b, *rel.Timing))
	if want := "slowest: target healthy"; !strings.Contains(b.String(), want) ||
		!strings.Contains(b.String(), "health.interval 5s, health.healthy_threshold 2") {
		t.Errorf("the table should name the health wait as the slowest phase, with its settings:\n%s", b.String())
	}
	t.Log("\n" + b.String())
	must(t, f.DestroyPreview(ctx, deploy.PreviewRequest{PR: 3}))
}

// checkAWSTiming checks the phases' presence, order and sum, never a
// number, and that the health wait is the slowest.
func checkAWSTiming(t *testing.T, tm *deploy.Timing, phases ...string) {
	t.Helper()
	timingtest.Phases(t, tm, phases...)
	if slow, _ := tm.Slowest(); slow.Name != deploy.PhaseHealthy {
		t.Errorf("%s: slowest phase %q, want the health wait", tm.Op, slow.Name)
	}
}
