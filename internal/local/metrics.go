package local

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/router"
)

// Sample reads the router's metrics (router.Client.Metrics) and sums them
// per stack: requests answered by the stack's targets (every rule), 5xx
// among them, and the latency histogram's sum. It then reads the router's
// health checks (router.Client.Status) and says in Unhealthy why a stack's
// targets are not all healthy, naming each failing target and its last
// health check error, as the aws target does from DescribeTargetHealth.
func (p *Provider) Sample(ctx context.Context) (map[string]deploy.TrafficSample, error) {
	stats, err := p.router.Metrics(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]deploy.TrafficSample{}
	for _, st := range stats {
		if st.Stack == "" { // the router's own answers
			continue
		}
		s := out[st.Stack]
		for _, byClass := range st.Requests {
			for _, n := range byClass {
				s.Requests += n
			}
		}
		s.Errors += st.Total("5xx")
		s.LatencySum += st.LatencySum
		out[st.Stack] = s
	}
	status, err := p.router.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("read target health: %w", err)
	}
	for stack, why := range unhealthyStacks(stats, status) {
		s := out[stack]
		s.Unhealthy = why
		out[stack] = s
	}
	return out, nil
}

// unhealthyStacks says, per stack with a target that is not healthy, why:
// no healthy target, or some of them failing, with each failing target's
// last health check error. Draining targets (being removed) do not count;
// the stack of a target is the one the metrics name.
func unhealthyStacks(stats map[string]router.TargetStats, status router.Status) map[string]string {
	type health struct {
		total   int
		failing []string
	}
	by := map[string]*health{}
	for _, ts := range status.Targets {
		stack := stats[ts.Name].Stack
		if ts.Draining || stack == "" {
			continue
		}
		h := by[stack]
		if h == nil {
			h = &health{}
			by[stack] = h
		}
		h.total++
		if !ts.Healthy {
			h.failing = append(h.failing, ts.Name+": "+healthError(ts))
		}
	}
	out := map[string]string{}
	for stack, h := range by {
		if len(h.failing) == 0 {
			continue
		}
		sort.Strings(h.failing)
		why := strings.Join(h.failing, "; ")
		if len(h.failing) == h.total {
			out[stack] = "no healthy target in the router: " + why
		} else {
			out[stack] = fmt.Sprintf("%d of %d targets fail their health check: %s", len(h.failing), h.total, why)
		}
	}
	return out
}

func healthError(ts router.TargetStatus) string {
	if ts.LastError == "" {
		return "no health check has passed yet"
	}
	return ts.LastError
}
