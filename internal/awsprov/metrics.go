package awsprov

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/deploy"
)

// CloudWatch is the part of the CloudWatch API the canary analysis calls.
type CloudWatch interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

var _ CloudWatch = (*cloudwatch.Client)(nil)

// MetricPeriod is the granularity of the ALB's CloudWatch metrics: it
// publishes them once a minute, and they arrive a minute or more late.
const MetricPeriod = time.Minute

// The ALB's per-target-group metrics (namespace AWS/ApplicationELB).
const (
	metricRequests = "RequestCount"
	metricErrors   = "HTTPCode_Target_5XX_Count"
	metricLatency  = "TargetResponseTime" // seconds, averaged per period
)

// Sample reads, for every stack in the production rule, the requests, 5xx
// and summed latency its target group answered since the provider's first
// Sample, from CloudWatch (one GetMetricData call). The counters only grow
// between samples, as the analysis expects. CloudWatch has the ALB's
// figures per minute and late: two samples less than a minute apart see
// nothing new, and Sample says so rather than letting an empty step look
// like a clean one. Each stack with a share of the traffic also gets its
// targets' health at the moment (one DescribeTargetHealth per stack).
func (p *Provider) Sample(ctx context.Context) (map[string]deploy.TrafficSample, error) {
	if p.cw == nil {
		return nil, errors.New("read load balancer metrics: the aws provider has no CloudWatch client")
	}
	shared, err := p.Shared(ctx)
	if err != nil {
		return nil, err
	}
	stacks, err := p.deployStacks(ctx)
	if err != nil {
		return nil, err
	}
	ws, err := p.traffic(shared).Weights(ctx)
	if err != nil {
		return nil, err
	}
	byTG := map[string]string{}
	for _, s := range stacks {
		byTG[s.Outputs[infra.OutputDeployTargetGroupARN]] = s.Name
	}
	now := time.Now().UTC()
	p.mu.Lock()
	if p.sampleFrom.IsZero() {
		p.sampleFrom = now.Truncate(MetricPeriod).Add(-MetricPeriod)
	}
	from, last := p.sampleFrom, p.lastSample
	p.lastSample = now
	p.mu.Unlock()
	if !last.IsZero() && now.Sub(last) < MetricPeriod {
		p.logf("canary: warning: only %s since the last metrics sample: the ALB publishes its CloudWatch metrics once a minute and a minute or more late, so this step's figures are likely empty; bake each step for 5 minutes or more on aws (SLIPWAY_CANARY_BAKE)", now.Sub(last).Round(time.Second))
	}
	var queries []cwtypes.MetricDataQuery
	names := map[string]string{} // query ID prefix -> stack
	weighted := map[string]string{}
	for i, w := range ws {
		name, ok := byTG[w.TargetGroup]
		if !ok {
			continue
		}
		if w.Weight > 0 {
			weighted[name] = w.TargetGroup
		}
		id := fmt.Sprintf("s%d", i)
		names[id] = name
		dims := []cwtypes.Dimension{
			{Name: aws.String("TargetGroup"), Value: aws.String(arnSuffix(w.TargetGroup, "targetgroup/"))},
			{Name: aws.String("LoadBalancer"), Value: aws.String(arnSuffix(shared.LoadBalancerARN, "loadbalancer/"))},
		}
		queries = append(queries, query(id+"r", metricRequests, "Sum", dims), query(id+"e", metricErrors, "Sum", dims), query(id+"l", metricLatency, "Average", dims))
	}
	if len(queries) == 0 {
		return map[string]deploy.TrafficSample{}, nil
	}
	out, err := p.metricSums(ctx, queries, names, from, now.Add(MetricPeriod))
	if err != nil {
		return nil, err
	}
	return out, p.sampleHealth(ctx, out, weighted)
}

// sampleHealth records in out why each stack with traffic (stack -> target
// group) is not healthy, if it is not: no healthy target, or a target
// failing its health check. The metrics cannot show it: an ALB whose
// targets all fail their checks sends them traffic anyway (it fails open),
// and a step's share of few requests may pass.
func (p *Provider) sampleHealth(ctx context.Context, out map[string]deploy.TrafficSample, tgs map[string]string) error {
	for name, tg := range tgs {
		ts, err := p.targetHealth(ctx, tg)
		if err != nil {
			return fmt.Errorf("read target health of stack %s: %w", name, err)
		}
		s := out[name]
		switch {
		case ts.healthy == 0:
			s.Unhealthy = "no healthy target in its target group: " + ts.why()
		case ts.unhealthy > 0:
			s.Unhealthy = fmt.Sprintf("%d of %d targets fail their health check: %s", ts.unhealthy, ts.healthy+len(ts.others), ts.why())
		}
		out[name] = s
	}
	return nil
}

func query(id, metric, stat string, dims []cwtypes.Dimension) cwtypes.MetricDataQuery {
	return cwtypes.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(true), MetricStat: &cwtypes.MetricStat{
		Metric: &cwtypes.Metric{Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String(metric), Dimensions: dims},
		Period: aws.Int32(int32(MetricPeriod / time.Second)), Stat: aws.String(stat),
	}}
}

// metricSums pages through GetMetricData and sums each stack's periods:
// requests and 5xx as counts, latency as each period's average times its
// requests.
func (p *Provider) metricSums(ctx context.Context, queries []cwtypes.MetricDataQuery, names map[string]string, from, to time.Time) (map[string]deploy.TrafficSample, error) {
	series := map[string]map[time.Time]float64{}
	in := &cloudwatch.GetMetricDataInput{MetricDataQueries: queries, StartTime: aws.Time(from), EndTime: aws.Time(to)}
	pg := cloudwatch.NewGetMetricDataPaginator(p.cw, in)
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read load balancer metrics from CloudWatch: %w", err)
		}
		for _, r := range out.MetricDataResults {
			id := aws.ToString(r.Id)
			if series[id] == nil {
				series[id] = map[time.Time]float64{}
			}
			for i, ts := range r.Timestamps {
				if i < len(r.Values) {
					series[id][ts] += r.Values[i]
				}
			}
		}
	}
	out := map[string]deploy.TrafficSample{}
	for id, name := range names {
		var s deploy.TrafficSample
		for ts, n := range series[id+"r"] {
			s.Requests += uint64(n)
			s.LatencySum += series[id+"l"][ts] * n
		}
		for _, n := range series[id+"e"] {
			s.Errors += uint64(n)
		}
		out[name] = s
	}
	return out, nil
}

// arnSuffix is the part of an ELBv2 ARN CloudWatch uses as a dimension:
// targetgroup/<name>/<id>, app/<name>/<id>.
func arnSuffix(arn, after string) string {
	if _, rest, ok := strings.Cut(arn, ":"+after); ok {
		if after == "loadbalancer/" {
			return rest
		}
		return after + rest
	}
	return arn
}
