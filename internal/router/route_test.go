package router

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
)

func TestHostRules(t *testing.T) {
	tr := startRouter(t, Options{})
	pr42, pr43, prod := newBackend(t, "app-pr-42"), newBackend(t, "app-pr-43"), newBackend(t, "app-prod")
	tr.replace(t, Table{
		Targets:    []Target{targetOf(pr42), targetOf(pr43), targetOf(prod)},
		Hosts:      []HostRule{{Host: "pr-42.app.localhost", Target: "app-pr-42"}, {Host: "pr-43.app.localhost", Target: "app-pr-43"}},
		Production: []Weighted{{Target: "app-prod", Weight: 1}},
	}, "app-pr-42", "app-pr-43", "app-prod")
	c := keepAliveClient(t)
	tests := map[string]struct{ host, want string }{
		"a preview host goes to its target":      {"pr-42.app.localhost", "app-pr-42"},
		"the port is stripped before matching":   {"pr-43.app.localhost:8080", "app-pr-43"},
		"hosts match in any case":                {"PR-42.App.LocalHost", "app-pr-42"},
		"the production host goes to production": {"app.localhost", "app-prod"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			resp, body := get(t, c, tr.url+"/", tc.host, nil)
			if resp.StatusCode != http.StatusOK || body != tc.want {
				t.Fatalf("Host %s: got %d %q, want 200 %q", tc.host, resp.StatusCode, body, tc.want)
			}
		})
	}
}

func TestUnknownHostIs404NamingTheHost(t *testing.T) {
	tr := startRouter(t, Options{})
	pr42, prod := newBackend(t, "app-pr-42"), newBackend(t, "app-prod")
	tr.replace(t, Table{Targets: []Target{targetOf(pr42), targetOf(prod)},
		Hosts:      []HostRule{{Host: "pr-42.app.localhost", Target: "app-pr-42"}},
		Production: []Weighted{{Target: "app-prod", Weight: 1}}}, "app-pr-42", "app-prod")
	for _, host := range []string{"pr-4.app.localhost", "pr-42.app.localhost.evil", "other.localhost:8080"} {
		resp, body := get(t, keepAliveClient(t), tr.url+"/", host, nil)
		want := fmt.Sprintf("no environment matches this host: %q", hostKey(host))
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, want) {
			t.Errorf("Host %s: %d %q, want 404 %q", host, resp.StatusCode, body, want)
		}
	}
	if n := prod.hits.Load() + pr42.hits.Load(); n != 0 {
		t.Fatalf("unknown hosts reached a target %d times", n)
	}
}

func TestNoProductionIs503(t *testing.T) {
	tr := startRouter(t, Options{})
	pr := newBackend(t, "app-pr-1")
	tr.replace(t, Table{Targets: []Target{targetOf(pr)}, Hosts: []HostRule{{Host: "pr-1.localhost", Target: "app-pr-1"}}}, "app-pr-1")
	resp, body := get(t, keepAliveClient(t), tr.url+"/", "app.localhost", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "no production stack is live") {
		t.Fatalf("got %d %q, want 503 'no production stack is live'", resp.StatusCode, body)
	}
}

// TestWeightedStickySplit sends one request for each of 10,000 distinct
// client cookies and checks each target's share is within ±2 percentage
// points of its weight; then that a cookie always lands on the same target.
func TestWeightedStickySplit(t *testing.T) {
	const clients, tolerancePP = 10000, 2.0
	tests := map[string]map[string]int{
		"a 90/10 canary":        {"blue": 90, "green": 10},
		"a 3-way 50/30/20 test": {"a": 50, "b": 30, "c": 20},
	}
	for name, weights := range tests {
		t.Run(name, func(t *testing.T) {
			tr := startRouter(t, Options{})
			var tb Table
			var names []string
			for n, w := range weights {
				b := newBackend(t, n)
				tb.Targets = append(tb.Targets, targetOf(b))
				tb.Production = append(tb.Production, Weighted{Target: n, Weight: w})
				names = append(names, n)
			}
			tr.replace(t, tb, names...)
			c := keepAliveClient(t)
			got := map[string]int{}
			first := map[int]string{}
			for i := 0; i < clients; i++ {
				_, body := get(t, c, tr.url+"/", "app.localhost", cookieHeader(fmt.Sprintf("client-%d", i)))
				got[body]++
				if i < 100 {
					first[i] = body
				}
			}
			for n, w := range weights {
				share := 100 * float64(got[n]) / clients
				if math.Abs(share-float64(w)) > tolerancePP {
					t.Errorf("target %s got %.2f%% of %d clients, want %d%% ± %.0f pp (all: %v)", n, share, clients, w, tolerancePP, got)
				}
			}
			for i, want := range first {
				for range 3 {
					if _, body := get(t, c, tr.url+"/", "app.localhost", cookieHeader(fmt.Sprintf("client-%d", i))); body != want {
						t.Fatalf("client-%d went to %s, earlier to %s: routing is not sticky", i, body, want)
					}
				}
			}
		})
	}
}

func TestNewClientGetsStickyCookie(t *testing.T) {
	tr := startRouter(t, Options{})
	a, b := newBackend(t, "a"), newBackend(t, "b")
	tr.replace(t, Table{Targets: []Target{targetOf(a), targetOf(b)},
		Production: []Weighted{{Target: "a", Weight: 50}, {Target: "b", Weight: 50}}}, "a", "b")
	c := keepAliveClient(t)
	resp, first := get(t, c, tr.url+"/", "app.localhost", nil)
	var id string
	for _, ck := range resp.Cookies() {
		if ck.Name == cookieName {
			id = ck.Value
			if ck.Path != "/" || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
				t.Errorf("cookie %+v: want Path=/, HttpOnly, SameSite=Lax", ck)
			}
		}
	}
	if id == "" {
		t.Fatalf("no %s cookie in %v", cookieName, resp.Header["Set-Cookie"])
	}
	for range 20 {
		resp, body := get(t, c, tr.url+"/", "app.localhost", cookieHeader(id))
		if body != first {
			t.Fatalf("with cookie %s: went to %s, first to %s", id, body, first)
		}
		if len(resp.Header["Set-Cookie"]) != 0 {
			t.Fatalf("a client with a cookie got a new one: %v", resp.Header["Set-Cookie"])
		}
	}
}

func TestHeaderOverride(t *testing.T) {
	tr := startRouter(t, Options{})
	prod, next, pr := newBackend(t, "prod"), newBackend(t, "next"), newBackend(t, "pr-7")
	tr.replace(t, Table{
		Targets:    []Target{targetOf(prod), targetOf(next), targetOf(pr)},
		Hosts:      []HostRule{{Host: "pr-7.localhost", Target: "pr-7"}},
		Production: []Weighted{{Target: "prod", Weight: 100}, {Target: "next", Weight: 0}},
	}, "prod", "next", "pr-7")
	c := keepAliveClient(t)
	tests := map[string]struct {
		host, stack string
		status      int
		want        string
	}{
		"reaches a production target with weight 0":     {"app.localhost", "next", 200, "next"},
		"wins over a host rule":                         {"pr-7.localhost", "prod", 200, "prod"},
		"reaches a target that only has a host rule":    {"app.localhost", "pr-7", 200, "pr-7"},
		"an unknown name is 404 listing the known ones": {"app.localhost", "nope", 404, `unknown target "nope"; known targets: next, pr-7, prod`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			resp, body := get(t, c, tr.url+"/", tc.host, map[string]string{"X-Slipway-Stack": tc.stack})
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.want)
			}
		})
	}
}

func TestHeaderOverrideByStackName(t *testing.T) {
	tr := startRouter(t, Options{})
	old, routed, newest := newBackend(t, "shop-pr-7-aaaaaa"), newBackend(t, "shop-pr-7-bbbbbb"), newBackend(t, "shop-pr-9-cccccc")
	withStack := func(b *backend, stack string) Target { tg := targetOf(b); tg.Stack = stack; return tg }
	tr.replace(t, Table{
		Targets: []Target{withStack(old, "shop-pr-7"), withStack(routed, "shop-pr-7"), withStack(newest, "shop-prod-1")},
		Hosts:   []HostRule{{Host: "pr-7.localhost", Target: "shop-pr-7-aaaaaa"}},
	}, "shop-pr-7-aaaaaa", "shop-pr-7-bbbbbb", "shop-pr-9-cccccc")
	c := keepAliveClient(t)
	tests := map[string]struct{ stack, want string }{
		"a stack name reaches the target its rule routes to": {"shop-pr-7", "shop-pr-7-aaaaaa"},
		"an unrouted stack reaches its only target":          {"shop-prod-1", "shop-pr-9-cccccc"},
		"a target name still reaches that exact target":      {"shop-pr-7-bbbbbb", "shop-pr-7-bbbbbb"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			resp, body := get(t, c, tr.url+"/", "app.localhost", map[string]string{"X-Slipway-Stack": tc.stack})
			if resp.StatusCode != 200 || !strings.Contains(body, tc.want) {
				t.Fatalf("got %d %q, want %q", resp.StatusCode, body, tc.want)
			}
		})
	}
}

// BenchmarkRoute measures the routing decision alone.
func BenchmarkRoute(b *testing.B) {
	r, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	tb := Table{Targets: []Target{{Name: "blue", URL: "http://127.0.0.1:1"}, {Name: "green", URL: "http://127.0.0.1:2"}, {Name: "pr", URL: "http://127.0.0.1:3"}},
		Hosts:           []HostRule{{Host: "pr-1.app.localhost", Target: "pr"}},
		Production:      []Weighted{{Target: "blue", Weight: 90}, {Target: "green", Weight: 10}},
		ProductionHosts: []string{"app.localhost"},
		Health:          HealthCheck{Interval: "5m"}}
	if err := r.Replace(tb); err != nil {
		b.Fatal(err)
	}
	defer r.stopTargets()
	s := r.snap.Load()
	for _, t := range s.order {
		t.healthy.Store(true)
	}
	host, id := "App.Localhost:8080", "0123456789abcdef"
	b.ReportAllocs()
	for b.Loop() {
		if d := s.route(host, "", false, id); d.t == nil {
			b.Fatal("no target")
		}
	}
}
