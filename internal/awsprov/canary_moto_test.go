package awsprov

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/slipway/slipway/internal/deploy"
)

// albMetrics publishes what the ALB would for a target group: requests,
// target 5xx and the mean response time of one minute. AWS: the ALB puts
// these in CloudWatch (AWS/ApplicationELB, by TargetGroup and
// LoadBalancer) once a minute and they are readable a minute or more
// later; moto has nothing unless it is put, so the test puts them.
func albMetrics(t *testing.T, e *awsEnv, lb, tg string, requests, errors5xx, latency float64, at time.Time) {
	t.Helper()
	dims := []cwtypes.Dimension{
		{Name: aws.String("TargetGroup"), Value: aws.String(arnSuffix(tg, "targetgroup/"))},
		{Name: aws.String("LoadBalancer"), Value: aws.String(arnSuffix(lb, "loadbalancer/"))},
	}
	datum := func(name string, v float64, unit cwtypes.StandardUnit) cwtypes.MetricDatum {
		return cwtypes.MetricDatum{MetricName: aws.String(name), Dimensions: dims, Value: aws.Float64(v), Unit: unit, Timestamp: aws.Time(at)}
	}
	_, err := cloudwatch.NewFromConfig(motoConfig(e.endpoint())).PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("AWS/ApplicationELB"),
		MetricData: []cwtypes.MetricDatum{datum(metricRequests, requests, cwtypes.StandardUnitCount),
			datum(metricErrors, errors5xx, cwtypes.StandardUnitCount), datum(metricLatency, latency, cwtypes.StandardUnitSeconds)},
	})
	must(t, err)
}

// testCanaryOnCloudWatch: a canary release whose new stack answers 30 %
// 5xx over the step (as the ALB's metrics say) is moved back off at once,
// production stays on the old stack, the new one is marked failed, and the
// bake shorter than the metrics' minute is called out.
func testCanaryOnCloudWatch(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	l := newLifeEnv(t, e, "bird")
	_, err := l.release(t, 1, deploy.ReleaseRequest{})
	must(t, err)
	v1 := l.name(t, 1)
	shared, err := l.p.Shared(ctx)
	must(t, err)
	l.f.Strategy = deploy.Strategy{Steps: []int{50, 100}, Bake: 50 * time.Millisecond, MaxErrorRate: 0.05, MaxLatencyRatio: 3}
	var mu sync.Mutex
	reads := 0
	e.inj.on("GetMetricData", func(_ any, next func() (any, error)) (any, error) {
		res, err := next()
		mu.Lock()
		defer mu.Unlock()
		if reads++; reads == 1 { // the step's first sample: the ALB then publishes the step's minute
			v2 := l.name(t, 2)
			now := time.Now().UTC()
			albMetrics(t, e, shared.LoadBalancerARN, stackOutput(t, e, v2, "TargetGroupArn"), 100, 30, 0.05, now)
			albMetrics(t, e, shared.LoadBalancerARN, stackOutput(t, e, v1, "TargetGroupArn"), 100, 1, 0.04, now)
		}
		return res, err
	})
	defer e.inj.on("GetMetricData", nil)
	_, err = l.release(t, 2, deploy.ReleaseRequest{})
	if !errors.Is(err, deploy.ErrCanaryFailed) || !strings.Contains(err.Error(), "error rate 30.0% (30 of 100 requests) against 1.0% (1 of 100)") {
		t.Fatalf("canary of a stack answering 30%% 5xx: %v, want ErrCanaryFailed with the figures", err)
	}
	l.production(t, v1)
	if s := l.stacks(t)[l.name(t, 2)]; s.State != deploy.StateFailed {
		t.Errorf("the canary stack reads %+v, want it marked failed", s)
	}
	if !strings.Contains(e.log.String(), "the ALB publishes its CloudWatch metrics once a minute") {
		t.Error("a bake shorter than the metrics' minute was not called out")
	}
}

// testSampleSumsTheSteps: Sample's counters only grow, per stack, and
// latency is summed as mean × requests of each minute.
func testSampleSumsTheSteps(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	l := newLifeEnv(t, e, "count")
	_, err := l.release(t, 1, deploy.ReleaseRequest{})
	must(t, err)
	v1 := l.name(t, 1)
	shared, err := l.p.Shared(ctx)
	must(t, err)
	tg := stackOutput(t, e, v1, "TargetGroupArn")
	first, err := l.p.Sample(ctx)
	must(t, err)
	now := time.Now().UTC()
	albMetrics(t, e, shared.LoadBalancerARN, tg, 40, 2, 0.5, now)
	albMetrics(t, e, shared.LoadBalancerARN, tg, 60, 0, 0.25, now.Add(-MetricPeriod))
	second, err := l.p.Sample(ctx)
	must(t, err)
	d := second[v1]
	d.Requests -= first[v1].Requests
	d.Errors -= first[v1].Errors
	d.LatencySum -= first[v1].LatencySum
	if d.Requests != 100 || d.Errors != 2 || d.LatencySum < 34.99 || d.LatencySum > 35.01 {
		t.Errorf("between two samples %+v, want 100 requests, 2 errors, latency sum 40×0.5+60×0.25 = 35 s", d)
	}
}

// testCanaryUnhealthyTargets: a canary step whose new stack's targets turn
// unhealthy during the bake fails with the targets' own reason, although
// its metrics are clean, and production goes back to the old stack.
//
// AWS: when the new tasks start failing their /healthz check during the
// bake, DescribeTargetHealth shows them unhealthy (Target.FailedHealthChecks,
// "Health checks failed with these codes: [...]") until ECS replaces them;
// while every target of the group is unhealthy the ALB fails open and goes
// on sending the group its weight, so the step's CloudWatch figures may
// look fine or be too few to judge. moto reports every registered target
// healthy at once and never changes it, so the answer is injected for the
// new stack's target group once the step has started (its first metrics
// sample, after SetProduction checked it healthy).
func testCanaryUnhealthyTargets(t *testing.T, e *awsEnv) {
	sick := elbtypes.TargetHealthDescription{Target: &elbtypes.TargetDescription{Id: aws.String("10.0.1.23"), Port: aws.Int32(8080)},
		TargetHealth: &elbtypes.TargetHealth{State: elbtypes.TargetHealthStateEnumUnhealthy, Reason: elbtypes.TargetHealthReasonEnumFailedHealthChecks,
			Description: aws.String("Health checks failed with these codes: [502]")}}
	fine := elbtypes.TargetHealthDescription{Target: &elbtypes.TargetDescription{Id: aws.String("10.0.1.7"), Port: aws.Int32(8080)},
		TargetHealth: &elbtypes.TargetHealth{State: elbtypes.TargetHealthStateEnumHealthy}}
	for _, tc := range []struct {
		name, app string
		targets   []elbtypes.TargetHealthDescription
		want      string
	}{
		{"every target unhealthy", "sick", []elbtypes.TargetHealthDescription{sick},
			"no healthy target in its target group: 10.0.1.23 unhealthy (Health checks failed with these codes: [502])"},
		{"one of two targets unhealthy", "half", []elbtypes.TargetHealthDescription{fine, sick},
			"1 of 2 targets fail their health check: 10.0.1.23 unhealthy (Health checks failed with these codes: [502])"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := canaryTurningUnhealthy(t, e, tc.app, tc.targets)
			v1, v2, log := c.v1, c.v2, c.log
			want := "canary: " + v2 + " at 50%: canary analysis failed: its targets are not healthy at the end of the bake: " + tc.want
			if !errors.Is(err, deploy.ErrCanaryFailed) || !strings.Contains(err.Error(), want) {
				t.Fatalf("canary whose targets turn unhealthy: %v\nwant ErrCanaryFailed with %q", err, want)
			}
			for _, line := range []string{v2 + " takes 50% of production traffic", "all production traffic moved back off " + v2} {
				if !strings.Contains(log, line) {
					t.Errorf("the release's progress lacks %q:\n%s", line, log)
				}
			}
			if strings.Contains(log, "takes 100%") {
				t.Errorf("the release went on to 100%% after the failed step:\n%s", log)
			}
			c.l.production(t, v1)
			if s := c.l.stacks(t)[v2]; s.State != deploy.StateFailed {
				t.Errorf("the canary stack reads %+v, want it marked failed", s)
			}
			if got := stackTag(t, e, v2, TagReason); !strings.Contains(got, "10.0.1.23 unhealthy") {
				t.Errorf("the canary stack's reason tag reads %q, want the target and its state", got)
			}
		})
	}
}

// canaryRun is a canary release of v2 over v1 and its progress.
type canaryRun struct {
	l           *lifeEnv
	v1, v2, log string
}

// canaryTurningUnhealthy releases v1, then v2 as a 50 % / 100 % canary
// whose metrics are clean and whose target group, from the step's first
// metrics sample on, has targets. It returns the run and the release's
// error.
func canaryTurningUnhealthy(t *testing.T, e *awsEnv, app string, targets []elbtypes.TargetHealthDescription) (canaryRun, error) {
	ctx := context.Background()
	c := canaryRun{l: newLifeEnv(t, e, app)}
	l := c.l
	_, err := l.release(t, 1, deploy.ReleaseRequest{})
	must(t, err)
	c.v1 = l.name(t, 1)
	shared, err := l.p.Shared(ctx)
	must(t, err)
	l.f.Strategy = deploy.Strategy{Steps: []int{50, 100}, Bake: 50 * time.Millisecond, MaxErrorRate: 0.05, MaxLatencyRatio: 3}
	var mu sync.Mutex
	sickTG := ""
	e.inj.on("GetMetricData", func(_ any, next func() (any, error)) (any, error) {
		res, err := next()
		mu.Lock()
		defer mu.Unlock()
		if sickTG == "" { // the step's first sample: the ALB then publishes a clean minute for both stacks
			sickTG = stackOutput(t, e, l.name(t, 2), "TargetGroupArn") // l.at is v2's by now
			now := time.Now().UTC()
			albMetrics(t, e, shared.LoadBalancerARN, sickTG, 100, 0, 0.04, now)
			albMetrics(t, e, shared.LoadBalancerARN, stackOutput(t, e, c.v1, "TargetGroupArn"), 100, 0, 0.04, now)
		}
		return res, err
	})
	e.inj.on("DescribeTargetHealth", func(params any, next func() (any, error)) (any, error) {
		mu.Lock()
		tg := sickTG
		mu.Unlock()
		if tg != "" && aws.ToString(params.(*elbv2.DescribeTargetHealthInput).TargetGroupArn) == tg {
			return &elbv2.DescribeTargetHealthOutput{TargetHealthDescriptions: targets}, nil
		}
		return next()
	})
	defer e.inj.on("GetMetricData", nil)
	defer e.inj.on("DescribeTargetHealth", nil)
	mark := len(e.log.String())
	_, err = l.release(t, 2, deploy.ReleaseRequest{})
	c.v2, c.log = l.name(t, 2), e.log.String()[mark:]
	return c, err
}
