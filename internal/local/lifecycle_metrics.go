package local

import (
	"context"

	"github.com/slipway/slipway/internal/deploy"
)

// Sample reads the router's metrics (router.Client.Metrics) and sums them
// per stack: requests answered by the stack's targets (every rule), 5xx
// among them, and the latency histogram's sum.
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
	return out, nil
}
