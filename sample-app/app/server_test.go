package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slowServer runs the app through serve on a real loopback listener, with an
// extra /slow route that holds its request until release is closed.
type slowServer struct {
	app     *App
	addr    string
	started chan struct{} // closed when /slow is running
	release chan struct{} // close to let /slow answer
	cancel  context.CancelFunc
	done    chan error // serve's result
	logs    *bytes.Buffer
}

func startSlowServer(t *testing.T, timeout time.Duration) *slowServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	logs := &bytes.Buffer{}
	cfg := testConfig()
	cfg.ShutdownTimeout = timeout
	s := &slowServer{
		app: New(cfg, slog.New(slog.NewTextHandler(logs, nil))), addr: ln.Addr().String(),
		started: make(chan struct{}), release: make(chan struct{}), done: make(chan error, 1), logs: logs,
	}
	mux := http.NewServeMux()
	mux.Handle("/", s.app)
	mux.HandleFunc("/slow", func(w http.ResponseWriter, _ *http.Request) {
		close(s.started)
		<-s.release
		_, _ = io.WriteString(w, "finished")
	})
	ctx, cancel := context.WithCancel(t.Context())
	s.cancel = cancel
	go func() { s.done <- s.app.serve(ctx, ln, mux) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.release:
		default:
			close(s.release)
		}
	})
	return s
}

type response struct {
	status int
	body   string
	err    error
}

// getAsync sends GET path on a new connection and delivers the outcome.
func (s *slowServer) getAsync(path string) <-chan response {
	out := make(chan response, 1)
	go func() {
		c := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
		resp, err := c.Get("http://" + s.addr + path)
		if err != nil {
			out <- response{err: err}
			return
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		out <- response{status: resp.StatusCode, body: string(b), err: err}
	}()
	return out
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestShutdownLetsInFlightRequestsFinishAndRefusesNewConnections(t *testing.T) {
	s := startSlowServer(t, 5*time.Second)
	if r := <-s.getAsync("/healthz"); r.err != nil || r.status != http.StatusOK {
		t.Fatalf("before shutdown: /healthz = %d, %v; want 200", r.status, r.err)
	}
	slow := s.getAsync("/slow")
	<-s.started

	s.cancel() // what SIGTERM does in main
	waitUntil(t, "/healthz answers 503", func() bool {
		return get(t, s.app, http.MethodGet, "/healthz").Code == http.StatusServiceUnavailable
	})
	waitUntil(t, "new connections are refused", func() bool {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			_ = c.Close()
			return false
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial after shutdown started: %v, want connection refused", err)
		}
		return true
	})
	select {
	case err := <-s.done:
		t.Fatalf("serve returned %v while a request was still running", err)
	case <-time.After(50 * time.Millisecond):
	}

	close(s.release)
	if r := <-slow; r.err != nil || r.status != http.StatusOK || r.body != "finished" {
		t.Fatalf("in-flight request = %d %q, %v; want 200 \"finished\"", r.status, r.body, r.err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve() = %v, want nil after a clean shutdown", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after the last request finished")
	}
	for _, want := range []string{"listening", "shutdown started", "shutdown complete"} {
		if !strings.Contains(s.logs.String(), want) {
			t.Errorf("log does not mention %q:\n%s", want, s.logs.String())
		}
	}
}

func TestShutdownFailsWhenRequestsOutliveTheDeadline(t *testing.T) {
	s := startSlowServer(t, 100*time.Millisecond)
	slow := s.getAsync("/slow")
	<-s.started
	s.cancel()
	select {
	case err := <-s.done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("serve() = %v, want a deadline error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not give up after the shutdown timeout")
	}
	if !strings.Contains(s.logs.String(), "requests still running") {
		t.Errorf("log does not say requests were still running:\n%s", s.logs.String())
	}
	close(s.release)
	if r := <-slow; r.err == nil && r.status == http.StatusOK {
		t.Error("the request cut off by the deadline still got a 200")
	}
}

func TestRunServesUntilTheContextEnds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- New(testConfig(), nil).Run(ctx, ln) }()

	if err := Healthcheck(ctx, portOf(t, ln.Addr().String())); err != nil {
		t.Fatalf("Healthcheck() on a running app = %v, want nil", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
}

func TestRunReportsAListenerThatFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	_ = ln.Close()
	if err := New(testConfig(), nil).Run(t.Context(), ln); err == nil {
		t.Fatal("Run() on a closed listener = nil, want an error")
	}
}

func TestHealthcheck(t *testing.T) {
	tests := map[string]struct {
		status  int
		wantErr string
	}{
		"a healthy app passes":          {http.StatusOK, ""},
		"an app shutting down fails":    {http.StatusServiceUnavailable, "503"},
		"an app without /healthz fails": {http.StatusNotFound, "404"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/healthz" {
					t.Errorf("health check asked for %s, want /healthz", r.URL.Path)
				}
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			err := Healthcheck(t.Context(), portOf(t, srv.Listener.Addr().String()))
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Healthcheck() = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
	t.Run("nothing listening fails", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		port := portOf(t, ln.Addr().String())
		_ = ln.Close()
		if err := Healthcheck(t.Context(), port); err == nil {
			t.Error("Healthcheck() with nothing listening = nil, want an error")
		}
	})
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("split %q: %v", addr, err)
	}
	return port
}
