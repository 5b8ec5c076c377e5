package deploy

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway/slipway/sample-app/app"
)

// appFake is the fake whose stacks are the real sample app, one server per
// commit: each reading of the counters sends perRead real requests to the
// production stacks by weight and counts their answers and latency, as
// the router's metrics do.
type appFake struct {
	*fakeProvider
	perRead int
	servers map[string]*httptest.Server // by commit
	counts  map[string]TrafficSample
}

// serve starts the sample app of commit configured by env, as a stack's
// container would be.
func (p *appFake) serve(t *testing.T, commit string, env map[string]string) {
	t.Helper()
	cfg, err := app.LoadConfig(func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Commit = commit
	srv := httptest.NewServer(app.New(cfg, nil))
	t.Cleanup(srv.Close)
	p.servers[commit] = srv
}

func (p *appFake) Sample(ctx context.Context) (map[string]TrafficSample, error) {
	total := 0
	for _, w := range p.routes.Production {
		total += w.Weight
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, w := range p.routes.Production {
		srv := p.servers[p.stacks[w.Stack].Commit]
		for range p.perRead * w.Weight / total {
			wg.Go(func() {
				start := time.Now()
				code := get(ctx, srv.URL+"/")
				mu.Lock()
				defer mu.Unlock()
				c := p.counts[w.Stack]
				c.Requests++
				c.LatencySum += time.Since(start).Seconds()
				if code >= 500 {
					c.Errors++
				}
				p.counts[w.Stack] = c
			})
		}
	}
	wg.Wait()
	out := map[string]TrafficSample{}
	for k, v := range p.counts {
		out[k] = v
	}
	return out, nil
}

func get(ctx context.Context, url string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 599
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 599
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// A release of the sample app made slow with APP_DELAY fails its canary on
// latency (its health check stays fast, so nothing else catches it), and
// production goes back to the old stack; the same release without the
// drill passes. APP_FAIL_PERCENT drills the error rate the same way. Both
// stacks answer at least 100 ms late and the limit is 3×, so that
// loopback's noise under load (a few ms, tens on a busy machine, a
// hundred on a 2-core CI box compiling beside it) cannot triple a mean.
func TestTheSampleAppsDrillsFailTheCanary(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string // the new release's
		verdict string            // of the 50 % step
		wantErr string
	}{
		{"APP_DELAY=800ms fails on latency", map[string]string{"APP_DELAY": "800ms"}, "failed: latency", "mean latency"},
		{"APP_FAIL_PERCENT=30 fails on errors", map[string]string{"APP_DELAY": "100ms", "APP_FAIL_PERCENT": "30"}, "failed: error rate", "error rate 30.0%"},
		{"no drill passes", map[string]string{"APP_DELAY": "100ms"}, VerdictPassed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &appFake{fakeProvider: newFake(), perRead: 40, servers: map[string]*httptest.Server{}, counts: map[string]TrafficSample{}}
			p.serve(t, "aaaaaaa", map[string]string{"APP_DELAY": "100ms"})
			p.serve(t, "bbbbbbb", tc.env)
			f, _ := newFlow(p.fakeProvider, "aaaaaaa", &fakeTester{})
			f.Target = p
			ctx := context.Background()
			old, err := f.Release(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var table strings.Builder
			f.Builder, f.Now = fakeBuilder{"bbbbbbb"}, func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }
			f.Strategy = Strategy{Steps: []int{50, 100}, Bake: 50 * time.Millisecond, MaxBake: 5 * time.Second, MaxErrorRate: 0.01, MaxLatencyRatio: 3,
				MinRequests: 20, Report: &table}
			res, err := f.Release(ctx, nil)
			verdict := canaryTable(t, table.String())["50%"]["VERDICT"]
			if verdict != tc.verdict {
				t.Errorf("the 50%% step's verdict %q, want %q:\n%s", verdict, tc.verdict, table.String())
			}
			want := res.Stack
			if tc.wantErr != "" {
				want = old.Stack
				if !errors.Is(err, ErrCanaryFailed) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("release: %v, want a failed canary saying %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Errorf("release: %v", err)
			}
			if live := p.routes.Live(); len(live) != 1 || live[0] != want {
				t.Errorf("production ends as %+v, want all on %s", p.routes.Production, want)
			}
		})
	}
}
