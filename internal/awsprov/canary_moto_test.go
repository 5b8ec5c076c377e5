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
