package router

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// servePorts serves n stack ports of tr on loopback until the test ends
// and returns their numbers.
func servePorts(t *testing.T, tr *testRouter, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		served := make(chan error, 1)
		go func() { served <- tr.ServePort(ln) }()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tr.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if err := <-served; !errors.Is(err, ErrRouterClosed) {
				t.Errorf("ServePort returned %v, want ErrRouterClosed", err)
			}
		})
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

func portURL(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) + "/" }

// A stack port is a URL that a plain client reaches with no Host rule and
// no header: each port goes to its own stack, whatever Host, header or
// cookie the request carries, and the answer is the app's alone.
func TestStackPortReachesExactlyItsStack(t *testing.T) {
	tr := startRouter(t, Options{})
	ports := servePorts(t, tr, 3)
	a, b := newBackend(t, "a-1"), newBackend(t, "b-1")
	tr.replace(t, Table{
		Targets:    []Target{{Name: "a-1", URL: a.URL, Stack: "a"}, {Name: "b-1", URL: b.URL, Stack: "b"}},
		Production: []Weighted{{Target: "a-1", Weight: 1}},
		Ports:      []PortRule{{Port: ports[0], Stack: "a"}, {Port: ports[1], Stack: "b"}},
	}, "a-1", "b-1")
	c := keepAliveClient(t)
	for i, want := range []string{"a-1", "b-1"} {
		resp, body := get(t, c, portURL(ports[i]), "", nil)
		if resp.StatusCode != http.StatusOK || body != want {
			t.Fatalf("port %d answers %d %q, want 200 %q", ports[i], resp.StatusCode, body, want)
		}
		if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
			t.Fatalf("port %d set cookies %q: a stack port answers as the app does", ports[i], got)
		}
	}
	resp, body := get(t, c, portURL(ports[1]), "app.localhost", map[string]string{"X-Slipway-Stack": "a"})
	if resp.StatusCode != http.StatusOK || body != "b-1" {
		t.Fatalf("port of b with Host app.localhost and X-Slipway-Stack a answers %d %q, want b-1", resp.StatusCode, body)
	}
	resp, body = get(t, c, portURL(ports[2]), "", nil)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "no stack has port "+strconv.Itoa(ports[2])) {
		t.Fatalf("a port without a rule answers %d %q, want 404 naming the port", resp.StatusCode, body)
	}
	m := tr.Metrics()
	if n := m["b-1"].Requests["port"]["2xx"]; n != 2 {
		t.Fatalf("metrics count %d port requests of b-1, want 2: %+v", n, m["b-1"].Requests)
	}
}

// A port keeps going to its stack's routed instance while a new one
// starts, follows the routes to the new one, and answers 503 while its
// stack has no instance.
func TestStackPortFollowsItsStackAcrossInstances(t *testing.T) {
	tr := startRouter(t, Options{})
	port := servePorts(t, tr, 1)[0]
	old, next := newBackend(t, "a-old"), newBackend(t, "a-new")
	next.healthy.Store(false)
	tb := Table{
		Targets: []Target{{Name: "a-old", URL: old.URL, Stack: "a"}},
		Hosts:   []HostRule{{Host: "pr-1.localhost", Target: "a-old"}},
		Ports:   []PortRule{{Port: port, Stack: "a"}},
	}
	tr.replace(t, tb, "a-old")
	tb.Targets = append(tb.Targets, Target{Name: "a-new", URL: next.URL, Stack: "a"})
	tr.replace(t, tb)
	c := keepAliveClient(t)
	if resp, body := get(t, c, portURL(port), "", nil); resp.StatusCode != http.StatusOK || body != "a-old" {
		t.Fatalf("while a-new starts the port answers %d %q, want the routed a-old", resp.StatusCode, body)
	}
	next.healthy.Store(true)
	tb.Targets, tb.Hosts = tb.Targets[1:], []HostRule{{Host: "pr-1.localhost", Target: "a-new"}}
	tr.replace(t, tb, "a-new")
	if resp, body := get(t, c, portURL(port), "", nil); resp.StatusCode != http.StatusOK || body != "a-new" {
		t.Fatalf("after the routes moved the port answers %d %q, want a-new", resp.StatusCode, body)
	}
	tb.Targets, tb.Hosts = nil, nil
	if err := tr.Replace(tb); err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, c, portURL(port), "", nil); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `stack "a"`) {
		t.Fatalf("a port whose stack has no instance answers %d %q, want 503 naming the stack", resp.StatusCode, body)
	}
}

// A stack port of a stack whose only instance is not healthy yet answers
// 503, as the header override does.
func TestStackPortOfAnUnhealthyStackAnswers503(t *testing.T) {
	tr := startRouter(t, Options{})
	port := servePorts(t, tr, 1)[0]
	b := newBackend(t, "a-1")
	b.healthy.Store(false)
	tr.replace(t, Table{Targets: []Target{{Name: "a-1", URL: b.URL, Stack: "a"}}, Ports: []PortRule{{Port: port, Stack: "a"}}})
	resp, body := get(t, keepAliveClient(t), portURL(port), "", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "not healthy yet") || b.hits.Load() != 0 {
		t.Fatalf("unhealthy stack's port answers %d %q (%d hits), want 503 and no request to it", resp.StatusCode, body, b.hits.Load())
	}
}

// Failed checks within the grace after the router first had a target do
// not count; after it they do.
func TestHealthGraceIgnoresEarlyFailures(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	fail := errors.New("status 503")
	tg := newTarget(targetSpec{name: "t", health: healthConfig{healthy: 1, unhealthy: 1, grace: time.Hour}}, newTargetMetrics("t"))
	tg.record(0, nil, log)
	tg.record(0, fail, log)
	if !tg.healthy.Load() || !strings.Contains(tg.status().LastError, "grace") {
		t.Fatalf("a failure within the grace flipped the target (healthy %v, last error %q)", tg.healthy.Load(), tg.status().LastError)
	}
	tg.added = time.Now().Add(-2 * time.Hour)
	tg.record(0, fail, log)
	if tg.healthy.Load() {
		t.Fatal("a failure after the grace did not count")
	}
}

func TestParsePortRange(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    PortRange
		wantErr string
	}{
		"a range":                        {in: "18100-18119", want: PortRange{18100, 18119}},
		"one port":                       {in: " 18100 ", want: PortRange{18100, 18100}},
		"nothing is no port":             {in: "", want: PortRange{}},
		"words say the form to write":    {in: "18100:18119", wantErr: "write it as first-last"},
		"a reversed range is refused":    {in: "18119-18100", wantErr: "1 <= first <= last <= 65535"},
		"a port past 65535 is refused":   {in: "65000-70000", wantErr: "1 <= first <= last <= 65535"},
		"too many ports say the maximum": {in: "10000-20000", wantErr: "at most 1000"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParsePortRange(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParsePortRange(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParsePortRange(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			if back, err := ParsePortRange(got.String()); err != nil || back != got {
				t.Fatalf("%v does not read back: %v, %v", got, back, err)
			}
		})
	}
}
