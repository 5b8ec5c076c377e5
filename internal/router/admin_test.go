package router

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestAdminRejectsBadTableAndKeepsTheRunningOne(t *testing.T) {
	tr := startRouter(t, Options{})
	a := newBackend(t, "a")
	good := Table{Targets: []Target{targetOf(a)}, Production: []Weighted{{Target: "a", Weight: 1}}}
	tr.replace(t, good, "a")
	before := tr.Table()

	tests := map[string]struct {
		body string
		want []string
	}{
		"every problem is listed": {
			body: `{"targets":[{"name":"a","url":"ftp://a"}],"hosts":[{"host":"x","target":"b"}],"production":[{"target":"a","weight":0}]}`,
			want: []string{"targets[0].url", `hosts[0].target: unknown target "b"`, "weights sum to 0"},
		},
		"an unknown field is named": {body: `{"targets":[],"prodution":[]}`, want: []string{`unknown field "prodution"`}},
		"broken JSON says so":       {body: `{"targets":`, want: []string{"decode table JSON"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			resp := adminRequest(t, http.MethodPut, tr.admin+"/table", tc.body)
			var eb errorBody
			if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
				t.Fatalf("decode error body: %v", err)
			}
			if resp.StatusCode != http.StatusBadRequest || len(eb.Errors) != len(tc.want) {
				t.Fatalf("got %d %q, want 400 with %d errors", resp.StatusCode, eb.Errors, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(eb.Errors[i], w) {
					t.Errorf("error %d %q lacks %q", i, eb.Errors[i], w)
				}
			}
			if after := tr.Table(); !reflect.DeepEqual(after, before) {
				t.Fatalf("a rejected table changed the running one:\n%+v\nwant %+v", after, before)
			}
		})
	}
	if _, body := get(t, keepAliveClient(t), tr.url+"/", "", nil); body != "a" {
		t.Fatalf("after rejected tables traffic went to %q", body)
	}
}

func TestClient(t *testing.T) {
	tr := startRouter(t, Options{})
	a := newBackend(t, "a")
	ctx := context.Background()
	want := Table{Targets: []Target{targetOf(a)}, Production: []Weighted{{Target: "a", Weight: 1}}, Health: fastHealth, DrainTimeout: "1s"}
	if err := tr.client.Replace(ctx, want); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	if err := tr.client.WaitHealthy(ctx, "a", 5*time.Second); err != nil {
		t.Fatalf("WaitHealthy: %v", err)
	}
	got, err := tr.client.Table(ctx)
	if at := got.LastLive["a"]; err == nil && (at.IsZero() || time.Since(at) > time.Minute) {
		t.Fatalf("Table: last_live %v, want a = the time of the write that made it live", got.LastLive)
	}
	got.LastLive = nil
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Table: %+v, %v; want %+v", got, err, want)
	}
	st, err := tr.client.Status(ctx)
	if err != nil || len(st.Targets) != 1 || !st.Targets[0].Healthy || st.Targets[0].URL != a.URL {
		t.Fatalf("Status: %+v, %v", st, err)
	}

	err = tr.client.Replace(ctx, Table{Production: []Weighted{{Target: "ghost", Weight: 1}}})
	var te *TableError
	if !errors.As(err, &te) || len(te.Problems) != 1 || !strings.Contains(te.Problems[0], `unknown target "ghost"`) {
		t.Fatalf("Replace of a bad table: %v, want *TableError naming ghost", err)
	}

	err = tr.client.WaitHealthy(ctx, "ghost", 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "not in the router table") {
		t.Fatalf("WaitHealthy(ghost): %v, want a bounded failure saying it is not in the table", err)
	}
}

func TestAdminHealthz(t *testing.T) {
	tr := startRouter(t, Options{})
	resp, err := http.Get(tr.admin + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok\n" {
		t.Fatalf("GET /healthz: %d %q", resp.StatusCode, b)
	}
}

func TestPersistenceRoundTrip(t *testing.T) {
	dir := t.TempDir()
	a, pr := newBackend(t, "a"), newBackend(t, "pr-5")
	tb := Table{Targets: []Target{targetOf(a), targetOf(pr)}, Hosts: []HostRule{{Host: "pr-5.localhost", Target: "pr-5"}},
		Production: []Weighted{{Target: "a", Weight: 1}}}
	first := startRouter(t, Options{StateDir: dir})
	first.replace(t, tb, "a", "pr-5")

	second := startRouter(t, Options{StateDir: dir}) // as after a restart
	if got := second.Table(); !reflect.DeepEqual(got, first.Table()) {
		t.Fatalf("restarted router table %+v, want %+v", got, first.Table())
	}
	for _, name := range []string{"a", "pr-5"} {
		if err := second.client.WaitHealthy(context.Background(), name, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	c := keepAliveClient(t)
	for host, want := range map[string]string{"pr-5.localhost": "pr-5", "app.localhost": "a"} {
		if _, body := get(t, c, second.url+"/", host, nil); body != want {
			t.Errorf("restarted router sent %s to %q, want %q", host, body, want)
		}
	}
}

func TestMetrics(t *testing.T) {
	tr := startRouter(t, Options{})
	a := newBackend(t, "a")
	tr.replace(t, Table{Targets: []Target{targetOf(a)}, Production: []Weighted{{Target: "a", Weight: 1}}}, "a")
	c := keepAliveClient(t)
	for range 5 {
		get(t, c, tr.url+"/", "", nil)
	}
	get(t, c, tr.url+"/", "", map[string]string{"X-Slipway-Stack": "a"})
	get(t, c, tr.url+"/", "", map[string]string{"X-Slipway-Stack": "nope"})
	resp, err := resp0(adminRequest(t, http.MethodGet, tr.admin+"/metrics", ""))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	text := string(b)
	for _, want := range []string{
		"# TYPE slipway_router_requests_total counter",
		`slipway_router_requests_total{rule="production",target="a",code="2xx"} 5`,
		`slipway_router_requests_total{rule="header",target="a",code="2xx"} 1`,
		`slipway_router_requests_total{rule="header",target="",code="4xx"} 1`,
		"# TYPE slipway_router_request_duration_seconds histogram",
		`slipway_router_request_duration_seconds_bucket{target="a",le="+Inf"} 6`,
		`slipway_router_request_duration_seconds_count{target="a"} 6`,
		`slipway_router_target_healthy{target="a"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		fmt.Println(text)
	}
}

// lockedBuffer is a bytes.Buffer safe for the router's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestAccessLogHasOneJSONLinePerRequest(t *testing.T) {
	var buf lockedBuffer
	tr := startRouter(t, Options{AccessLog: slog.New(slog.NewJSONHandler(&buf, nil))})
	a := newBackend(t, "a")
	tr.replace(t, Table{Targets: []Target{targetOf(a)}, Production: []Weighted{{Target: "a", Weight: 1}}}, "a")
	get(t, keepAliveClient(t), tr.url+"/some/path?q=1", "App.localhost", nil)
	waitFor(t, "the access log line", func() bool { return strings.Contains(buf.String(), "\n") })
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(buf.String())), &line); err != nil {
		t.Fatalf("access log %q is not one JSON line: %v", buf.String(), err)
	}
	for k, want := range map[string]any{"method": "GET", "host": "App.localhost", "path": "/some/path?q=1",
		"target": "a", "status": 200.0, "rule": "production"} {
		if line[k] != want {
			t.Errorf("access log %s = %v, want %v", k, line[k], want)
		}
	}
	if _, ok := line["duration"]; !ok {
		t.Error("access log has no duration")
	}
}

// Two writers that read, change and replace the table cannot lose each
// other's change: the second one gets ErrConflict and retries.
func TestStaleWriterGetsAConflictAndChangesNothing(t *testing.T) {
	tr := startRouter(t, Options{})
	a, b := newBackend(t, "a"), newBackend(t, "b")
	c := &Client{BaseURL: tr.admin, Token: testToken}
	ctx := context.Background()
	if err := c.Replace(ctx, Table{Targets: []Target{targetOf(a)}}); err != nil {
		t.Fatal(err)
	}
	first, etag, err := c.TableVersion(ctx)
	if err != nil || etag == "" {
		t.Fatalf("table %+v etag %q err %v", first, etag, err)
	}
	withB := first
	withB.Targets = append(append([]Target(nil), first.Targets...), targetOf(b))
	if err := c.ReplaceIf(ctx, withB, etag); err != nil {
		t.Fatalf("the first writer holds the current ETag: %v", err)
	}
	stale := first
	stale.Hosts = []HostRule{{Host: "pr-1.localhost", Target: "a"}}
	err = c.ReplaceIf(ctx, stale, etag)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("stale writer: err = %v, want ErrConflict", err)
	}
	now, _, err := c.TableVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(now.Targets) != 2 || len(now.Hosts) != 0 {
		t.Fatalf("a refused write changed the table: %+v", now)
	}
}

func resp0(r *http.Response) (*http.Response, error) { return r, nil }

func TestAdminRefusesForeignHostsAndMissingTokens(t *testing.T) {
	tr := startRouter(t, Options{})
	a := newBackend(t, "a")
	tr.replace(t, Table{Targets: []Target{targetOf(a)}, Production: []Weighted{{Target: "a", Weight: 1}}}, "a")
	before := tr.Table()
	body := `{"targets":[{"name":"evil","url":"http://203.0.113.1:80"}],"production":[{"target":"evil","weight":1}]}`
	tests := map[string]struct {
		host, auth string
		want       int
	}{
		"no token":                             {"", "", http.StatusUnauthorized},
		"a wrong token":                        {"", "Bearer nope", http.StatusUnauthorized},
		"the router's name on the app network": {"app-router:9000", "Bearer " + testToken, http.StatusForbidden},
		"a DNS-rebound name":                   {"attacker.example:9000", "Bearer " + testToken, http.StatusForbidden},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPut, tr.admin+"/table", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("PUT /table: %d, want %d", resp.StatusCode, tc.want)
			}
			if !reflect.DeepEqual(tr.Table(), before) {
				t.Fatal("the refused PUT changed the table")
			}
		})
	}
	if resp, err := http.Get(tr.admin + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz without a token: %v %v, want 200 (Docker HEALTHCHECK)", resp, err)
	}
	for _, host := range []string{"localhost:9000", "127.0.0.1", "[::1]:9000"} {
		if !loopbackHost(host) {
			t.Errorf("loopbackHost(%q) = false", host)
		}
	}
}

func TestAdminRefusesTablesThatWipeOrOverreach(t *testing.T) {
	tr := startRouter(t, Options{})
	a := newBackend(t, "a")
	tr.replace(t, Table{Targets: []Target{targetOf(a)}, Production: []Weighted{{Target: "a", Weight: 1}}}, "a")
	before := tr.Table()
	many := make([]Target, MaxTargets+1)
	for i := range many {
		many[i] = Target{Name: fmt.Sprintf("t%d", i), URL: "http://127.0.0.1:1"}
	}
	manyJSON, err := json.Marshal(Table{Targets: many})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		query, body string
		want        int
		says        string
	}{
		"null":                       {"", "null", 400, "not a JSON object"},
		"an empty object":            {"", "{}", 409, "removes every target"},
		"an empty target list":       {"", `{"targets":[]}`, 409, "allow_empty=true"},
		"a 1ns health interval":      {"", `{"targets":[{"name":"a","url":"http://a:1"}],"health":{"interval":"1ns"}}`, 400, "health.interval: 1ns is out of range"},
		"more targets than allowed":  {"", string(manyJSON), 400, fmt.Sprintf("at most %d", MaxTargets)},
		"six weighted targets":       {"", `{"targets":[{"name":"a","url":"http://a:1"}],"production":[{"target":"a","weight":1},{"target":"a","weight":1},{"target":"a","weight":1},{"target":"a","weight":1},{"target":"a","weight":1},{"target":"a","weight":1}]}`, 400, "at most 5"},
		"an idle timeout over 4000s": {"", `{"targets":[{"name":"a","url":"http://a:1"}],"idle_timeout":"2h"}`, 400, "idle_timeout"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			resp := adminRequest(t, http.MethodPut, tr.admin+"/table"+tc.query, tc.body)
			b, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != tc.want || !strings.Contains(string(b), tc.says) {
				t.Fatalf("got %d %s, want %d saying %q", resp.StatusCode, b, tc.want, tc.says)
			}
			if !reflect.DeepEqual(tr.Table(), before) {
				t.Fatal("the refused table changed the running one")
			}
		})
	}
	resp := adminRequest(t, http.MethodPut, tr.admin+"/table?allow_empty=true", "{}")
	if resp.StatusCode != 200 || len(tr.Table().Targets) != 0 {
		t.Fatalf("an explicit empty table: %d, %d targets left", resp.StatusCode, len(tr.Table().Targets))
	}
}

func TestClientMetricsAndLastLive(t *testing.T) {
	tr := startRouter(t, Options{})
	var clock atomic.Int64 // the router's clock, moved by the test
	clock.Store(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).UnixNano())
	tr.mu.Lock()
	tr.now = func() time.Time { return time.Unix(0, clock.Load()) }
	tr.mu.Unlock()
	blue, green := newBackend(t, "blue"), newBackend(t, "green")
	tb := Table{Targets: []Target{{Name: "blue-1", Stack: "blue", URL: blue.URL}, {Name: "green-1", Stack: "green", URL: green.URL}},
		Production: []Weighted{{Target: "blue-1", Weight: 1}}}
	tr.replace(t, tb, "blue-1", "green-1")
	ctx := context.Background()
	first, err := tr.client.Table(ctx)
	if err != nil || first.LastLive["blue"].IsZero() || !first.LastLive["green"].IsZero() {
		t.Fatalf("last_live after blue went live: %v, %v; want blue only", first.LastLive, err)
	}
	for range 3 {
		get(t, keepAliveClient(t), tr.url+"/", "app.localhost", nil)
	}
	m, err := tr.client.Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s := m["blue-1"]; s.Stack != "blue" || s.Total("2xx") != 3 || s.Count != 3 || !s.Healthy || len(s.Latency) == 0 {
		t.Fatalf("metrics of blue-1: %+v, want stack blue, 3 answers 2xx", s)
	}
	clock.Add(int64(time.Minute))
	tb.Production = []Weighted{{Target: "green-1", Weight: 1}}
	tb.LastLive = map[string]time.Time{"blue": time.Unix(0, 0)} // ignored: the router keeps last_live
	if err := tr.client.Replace(ctx, tb); err != nil {
		t.Fatal(err)
	}
	second, err := tr.client.Table(ctx)
	if err != nil || !second.LastLive["blue"].After(first.LastLive["blue"]) || second.LastLive["green"].IsZero() {
		t.Fatalf("last_live after the switch to green: %v, %v; want blue moved to the switch, green set", second.LastLive, err)
	}
	if err := tr.client.Replace(ctx, tb); err != nil {
		t.Fatal(err)
	}
	third, err := tr.client.Table(ctx)
	if err != nil || !third.LastLive["blue"].Equal(second.LastLive["blue"]) {
		t.Fatalf("blue's last_live moved on a write where it was not live: %v -> %v", second.LastLive, third.LastLive)
	}
}
