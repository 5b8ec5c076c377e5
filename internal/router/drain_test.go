package router

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// slowBackend answers /slow only when release is closed (or after hold).
func slowBackend(t *testing.T, name string, release <-chan struct{}, hold time.Duration) *backend {
	b := newBackend(t, name)
	inner := b.Config.Handler
	b.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-time.After(hold):
			case <-r.Context().Done():
				return
			}
		}
		inner.ServeHTTP(w, r)
	})
	return b
}

type result struct {
	status int
	body   string
	err    error
}

// startSlow sends GET /slow in the background and waits until the router
// counts it in flight.
func startSlow(t *testing.T, tr *testRouter, target string) <-chan result {
	t.Helper()
	done := make(chan result, 1)
	go func() {
		resp, err := http.Get(tr.url + "/slow")
		if err != nil {
			done <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		done <- result{status: resp.StatusCode, body: string(b), err: err}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, ts := range tr.Status().Targets {
			if ts.Name == target && ts.InFlight == 1 {
				return done
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("the slow request to %s never showed up in flight", target)
	return nil
}

func TestDrainLetsInFlightFinish(t *testing.T) {
	tr := startRouter(t, Options{})
	release := make(chan struct{})
	blue, green := slowBackend(t, "blue", release, 10*time.Second), newBackend(t, "green")
	tr.replace(t, Table{Targets: []Target{targetOf(blue), targetOf(green)},
		Production: []Weighted{{Target: "blue", Weight: 1}}, DrainTimeout: "5s"}, "blue", "green")
	slow := startSlow(t, tr, "blue")

	start := time.Now()
	tr.replace(t, Table{Targets: []Target{targetOf(green)}, Production: []Weighted{{Target: "green", Weight: 1}}, DrainTimeout: "5s"})
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("Replace took %v: it must not wait for the drain", d)
	}
	st := tr.Status().Targets
	if len(st) != 2 || st[1].Name != "blue" || !st[1].Draining || st[1].InFlight != 1 || st[1].DrainDeadline == nil {
		t.Fatalf("status %+v: want green, then blue draining with 1 in flight", st)
	}
	for range 20 {
		if _, body := get(t, keepAliveClient(t), tr.url+"/", "", nil); body != "green" {
			t.Fatalf("a new request went to %q during the drain", body)
		}
	}
	close(release)
	if r := <-slow; r.err != nil || r.status != 200 || r.body != "blue" {
		t.Fatalf("the in-flight request ended %+v, want 200 from blue", r)
	}
	waitFor(t, "blue to leave the status", func() bool { return len(tr.Status().Targets) == 1 })
}

func TestDrainDeadlineCutsSlowRequests(t *testing.T) {
	tr := startRouter(t, Options{})
	blue, green := slowBackend(t, "blue", nil, 30*time.Second), newBackend(t, "green")
	tr.replace(t, Table{Targets: []Target{targetOf(blue), targetOf(green)},
		Production: []Weighted{{Target: "blue", Weight: 1}}, DrainTimeout: "200ms"}, "blue", "green")
	slow := startSlow(t, tr, "blue")
	start := time.Now()
	tr.replace(t, Table{Targets: []Target{targetOf(green)}, Production: []Weighted{{Target: "green", Weight: 1}}, DrainTimeout: "200ms"})
	select {
	case r := <-slow:
		if r.err != nil || r.status != http.StatusBadGateway || !strings.Contains(r.body, "drain deadline passed") {
			t.Fatalf("the request past the drain deadline ended %+v, want 502 saying the drain deadline passed", r)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Fatalf("the request was cut after %v, before the 200ms deadline", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the request was not cut at the drain deadline")
	}
	waitFor(t, "blue to leave the status", func() bool { return len(tr.Status().Targets) == 1 })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestShutdownFinishesInFlightRequests(t *testing.T) {
	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- r.Serve(ln) }()
	tr := &testRouter{Router: r, url: "http://" + ln.Addr().String(), client: &Client{}}
	release := make(chan struct{})
	b := slowBackend(t, "app", release, 10*time.Second)
	if err := r.Replace(Table{Targets: []Target{targetOf(b)}, Production: []Weighted{{Target: "app", Weight: 1}}, Health: fastHealth, ProductionHosts: testProductionHosts}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "app to become healthy", func() bool { return r.Status().Targets[0].Healthy })
	slow := startSlow(t, tr, "app")
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- r.Shutdown(ctx)
	}()
	waitFor(t, "the router to stop accepting connections", func() bool {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err != nil
	})
	close(release)
	if res := <-slow; res.err != nil || res.status != 200 {
		t.Fatalf("the in-flight request ended %+v, want 200", res)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, ErrRouterClosed) {
		t.Fatalf("Serve: %v, want ErrRouterClosed", err)
	}
}

// A streamed answer still running at the drain deadline is cut: the
// client's stream ends without its last chunk, the target's request ends
// too, and the target leaves the status.
func TestDrainDeadlineCutsStreamedAnswers(t *testing.T) {
	ended := make(chan struct{})
	stream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		defer close(ended)
		for {
			if _, err := io.WriteString(w, "tick\n"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}))
	t.Cleanup(stream.Close)
	green := newBackend(t, "green")
	tr := startRouter(t, Options{})
	tr.replace(t, Table{Targets: []Target{{Name: "blue", URL: stream.URL}, targetOf(green)},
		Production: []Weighted{{Target: "blue", Weight: 1}}, DrainTimeout: "200ms"}, "blue", "green")
	resp, err := keepAliveClient(t).Get(tr.url + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	start := time.Now()
	tr.replace(t, Table{Targets: []Target{targetOf(green)}, Production: []Weighted{{Target: "green", Weight: 1}}, DrainTimeout: "200ms"})
	_, err = io.Copy(io.Discard, resp.Body)
	if err == nil {
		t.Fatal("the streamed answer ended cleanly; want it cut at the drain deadline")
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 5*time.Second {
		t.Fatalf("the stream was cut after %v, want at the 200ms deadline", d)
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the target kept streaming after the drain deadline")
	}
	waitFor(t, "blue to leave the status", func() bool { return len(tr.Status().Targets) == 1 })
}
