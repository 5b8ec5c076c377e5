package router

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestHealthThresholds(t *testing.T) {
	fail := errors.New("status 503")
	tests := map[string]struct {
		healthy, unhealthy int
		results            []error
		want               []bool // health after each result
	}{
		"a new target needs healthy_threshold passes in a row": {
			healthy: 3, unhealthy: 2,
			results: []error{nil, nil, fail, nil, nil, nil},
			want:    []bool{false, false, false, false, false, true},
		},
		"a healthy target needs unhealthy_threshold failures in a row": {
			healthy: 1, unhealthy: 3,
			results: []error{nil, fail, fail, nil, fail, fail, fail},
			want:    []bool{true, true, true, true, true, true, false},
		},
		"thresholds of one flip at once": {
			healthy: 1, unhealthy: 1,
			results: []error{fail, nil, fail, nil},
			want:    []bool{false, true, false, true},
		},
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tg := newTarget(targetSpec{name: "t", health: healthConfig{healthy: tc.healthy, unhealthy: tc.unhealthy}}, newTargetMetrics("t"))
			for i, err := range tc.results {
				tg.record(0, err, log)
				if got := tg.healthy.Load(); got != tc.want[i] {
					t.Fatalf("after result %d (%v): healthy=%v, want %v", i, err, got, tc.want[i])
				}
			}
		})
	}
}

func TestUnhealthyTargetGetsNoTrafficUntilHealthy(t *testing.T) {
	tr := startRouter(t, Options{})
	stable, canary := newBackend(t, "stable"), newBackend(t, "canary")
	canary.healthy.Store(false)
	tr.replace(t, Table{
		Targets:    []Target{targetOf(stable), targetOf(canary)},
		Hosts:      []HostRule{{Host: "pr-9.localhost", Target: "canary"}},
		Production: []Weighted{{Target: "stable", Weight: 50}, {Target: "canary", Weight: 50}},
	}, "stable")
	c := keepAliveClient(t)
	waitFor(t, "the canary's health check to fail", func() bool {
		return strings.Contains(tr.Status().Targets[1].LastError, "status 503")
	})
	for i := range 200 {
		if _, body := get(t, c, tr.url+"/", "app.localhost", cookieHeader(fmt.Sprintf("c%d", i))); body != "stable" {
			t.Fatalf("client c%d reached %q while the canary fails its health check", i, body)
		}
	}
	for name, hdr := range map[string]struct{ host, stack string }{
		"host rule": {"pr-9.localhost", ""}, "header override": {"app.localhost", "canary"},
	} {
		resp, body := get(t, c, tr.url+"/", hdr.host, map[string]string{"X-Slipway-Stack": hdr.stack})
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "not healthy yet") {
			t.Errorf("%s to an unhealthy target: %d %q, want 503 not healthy yet", name, resp.StatusCode, body)
		}
	}
	if n := canary.hits.Load(); n != 0 {
		t.Fatalf("the unhealthy canary served %d requests", n)
	}
	st := tr.Status()
	if st.Targets[1].Healthy || !strings.Contains(st.Targets[1].LastError, "status 503") {
		t.Fatalf("status of canary %+v: want unhealthy with the last error", st.Targets[1])
	}

	canary.healthy.Store(true)
	tr.replace(t, tr.Table(), "canary") // same table: the targets keep their state
	got := map[string]int{}
	for i := range 200 {
		_, body := get(t, c, tr.url+"/", "app.localhost", cookieHeader(fmt.Sprintf("c%d", i)))
		got[body]++
	}
	if got["canary"] < 60 || got["stable"] < 60 {
		t.Fatalf("after the canary turned healthy the 50/50 split is %v", got)
	}
}

func TestKeptTargetKeepsHealthAcrossReplace(t *testing.T) {
	tr := startRouter(t, Options{})
	a := newBackend(t, "a")
	slow := HealthCheck{Interval: "5m", Timeout: "1s", HealthyThreshold: 1}
	tr.replace(t, Table{Targets: []Target{targetOf(a)}, Production: []Weighted{{Target: "a", Weight: 1}}, Health: slow}, "a")
	b := newBackend(t, "b")
	b.healthy.Store(false) // b never gets traffic: only a's kept health can answer
	if err := tr.Replace(Table{Targets: []Target{targetOf(a), targetOf(b)}, Health: slow, ProductionHosts: testProductionHosts,
		Production: []Weighted{{Target: "a", Weight: 1}, {Target: "b", Weight: 1}}}); err != nil {
		t.Fatal(err)
	}
	st := tr.Status()
	if !st.Targets[0].Healthy {
		t.Fatalf("target a lost its health across the replace: %+v", st.Targets[0])
	}
	if resp, body := get(t, keepAliveClient(t), tr.url+"/", "", nil); resp.StatusCode != 200 || body != "a" {
		t.Fatalf("right after the replace: %d %q, want 200 from a", resp.StatusCode, body)
	}
}
