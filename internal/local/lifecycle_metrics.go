package local

import (
	"context"
	"fmt"
	"net/http"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/slipway/slipway/internal/deploy"
)

// Sample reads the router's Prometheus metrics and sums them per stack:
// requests answered by each target (every rule), 5xx among them, and the
// latency histogram's sum.
func (p *Provider) Sample(ctx context.Context) (map[string]deploy.TrafficSample, error) {
	fams, err := p.metrics(ctx)
	if err != nil {
		return nil, err
	}
	byTarget, err := p.stackOfTarget(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]deploy.TrafficSample{}
	add := func(target string, f func(*deploy.TrafficSample)) {
		in, ok := byTarget[target]
		if !ok {
			return
		}
		s := out[in.Stack]
		f(&s)
		out[in.Stack] = s
	}
	for _, m := range fams["slipway_router_requests_total"].GetMetric() {
		l := labels(m)
		n := uint64(m.GetCounter().GetValue())
		add(l["target"], func(s *deploy.TrafficSample) {
			s.Requests += n
			if l["code"] == "5xx" {
				s.Errors += n
			}
		})
	}
	for _, m := range fams["slipway_router_request_duration_seconds"].GetMetric() {
		sum := m.GetHistogram().GetSampleSum()
		add(labels(m)["target"], func(s *deploy.TrafficSample) { s.LatencySum += sum })
	}
	return out, nil
}

func (p *Provider) metrics(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.router.BaseURL+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.router.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read router metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read router metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read router metrics: %w", err)
	}
	return fams, nil
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}
