package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testRouter is a router serving on loopback with its admin API.
type testRouter struct {
	*Router
	url    string // traffic
	admin  string // admin API
	client *Client
}

// startRouter starts a router with a traffic and an admin listener on
// loopback; both stop at the end of the test.
func startRouter(t testing.TB, opts Options) *testRouter {
	t.Helper()
	if opts.AdminToken == "" {
		opts.AdminToken = testToken
	}
	r, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- r.Serve(ln) }()
	admin := httptest.NewUnstartedServer(nil)
	admin.Config = r.AdminServer(r.AdminHandler())
	admin.Start()
	t.Cleanup(func() {
		admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, ErrRouterClosed) {
			t.Errorf("Serve returned %v, want ErrRouterClosed", err)
		}
	})
	return &testRouter{Router: r, url: "http://" + ln.Addr().String(), admin: admin.URL,
		client: &Client{BaseURL: admin.URL, Token: opts.AdminToken}}
}

// testToken is the admin token of the routers in these tests.
const testToken = "test-admin-token"

// adminRequest sends an admin request with the test token.
func adminRequest(t *testing.T, method, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// backend is a real HTTP server that answers with its name.
type backend struct {
	*httptest.Server
	name    string
	hits    atomic.Int64
	healthy atomic.Bool
}

// newBackend starts a backend whose /healthz passes; other paths answer
// "name" with status 200 after counting the hit.
func newBackend(t testing.TB, name string) *backend {
	t.Helper()
	b := &backend{name: name}
	b.healthy.Store(true)
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			if !b.healthy.Load() {
				http.Error(w, "not ready", http.StatusServiceUnavailable)
			}
			return
		}
		b.hits.Add(1)
		w.Header().Set("X-Backend", name)
		_, _ = io.WriteString(w, name)
	}))
	t.Cleanup(b.Close)
	return b
}

// fastHealth checks as often as a table may ask and trusts one result.
var fastHealth = HealthCheck{Interval: "100ms", Timeout: "500ms", HealthyThreshold: 1, UnhealthyThreshold: 1}

// testProductionHosts are the hosts production answers on in these tests:
// the name the tests send and the loopback address of a plain http.Get.
var testProductionHosts = []string{"app.localhost", "127.0.0.1"}

func targetOf(b *backend) Target { return Target{Name: b.name, URL: b.URL} }

// replace applies tb and waits until the named targets are healthy.
func (tr *testRouter) replace(t testing.TB, tb Table, healthy ...string) {
	t.Helper()
	if tb.Health == (HealthCheck{}) {
		tb.Health = fastHealth
	}
	if tb.ProductionHosts == nil {
		tb.ProductionHosts = testProductionHosts
	}
	if err := tr.Replace(tb); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	for _, name := range healthy {
		if err := tr.client.WaitHealthy(context.Background(), name, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
}

// get sends GET path with the given Host and headers and returns the
// response with its body read.
func get(t *testing.T, c *http.Client, url, host string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s (Host %s): %v", url, host, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, strings.TrimSpace(string(body))
}

// keepAliveClient pools enough connections for the test loops.
func keepAliveClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func cookieHeader(id string) map[string]string {
	return map[string]string{"Cookie": fmt.Sprintf("%s=%s", cookieName, id)}
}
