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
			req, err := http.NewRequest(http.MethodPut, tr.admin+"/table", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
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
	resp, err := http.Get(tr.admin + "/metrics")
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
	c := &Client{BaseURL: tr.admin}
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
