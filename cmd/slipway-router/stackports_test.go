package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/router"
)

// The router started with -stack-ports serves each port of the range, and
// a plain GET on one reaches the stack the table's port rule names.
func TestStackPortsReachTheirStack(t *testing.T) {
	t.Setenv("GOGC", "100") // keeps tuneGC off the test process
	t.Setenv("SLIPWAY_ROUTER_TOKEN", "test-token-0123456789")
	ports := freeRange(t, 2)
	cfg := parseFlags([]string{"-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-state", t.TempDir(), "-access-log=false",
		"-stack-ports", ports.String()})
	admin := startRun(t, cfg)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "app on "+r.URL.Path)
	}))
	t.Cleanup(app.Close)
	c := &router.Client{BaseURL: "http://" + admin, Token: "test-token-0123456789"}
	ctx := context.Background()
	err := c.Replace(ctx, router.Table{
		Targets: []router.Target{{Name: "shop-pr-1-abc", Stack: "shop-pr-1", URL: app.URL}},
		Ports:   []router.PortRule{{Port: ports.Last, Stack: "shop-pr-1"}},
		Health:  router.HealthCheck{Path: "/up", Interval: "100ms", HealthyThreshold: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitHealthy(ctx, "shop-pr-1-abc", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/orders", ports.Last))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != "app on /orders" {
		t.Fatalf("GET on the stack port: %d %q %v, want the app's answer", resp.StatusCode, body, err)
	}
}

func TestBadStackPortsStopTheRouterSayingWhy(t *testing.T) {
	t.Setenv("GOGC", "100") // keeps tuneGC off the test process
	t.Setenv("SLIPWAY_ROUTER_TOKEN", "test-token-0123456789")
	cfg := parseFlags([]string{"-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-state", t.TempDir(), "-stack-ports", "18119-18100"})
	err := run(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "-stack-ports") || !strings.Contains(err.Error(), "first <= last") {
		t.Fatalf("run with a reversed range: %v, want an error naming -stack-ports and the form", err)
	}
}

// freeRange finds n consecutive free ports on 127.0.0.1.
func freeRange(t *testing.T, n int) router.PortRange {
	t.Helper()
	for range 100 {
		first := 20000 + rand.IntN(20000)
		free := true
		for p := first; p < first+n && free; p++ {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				continue
			}
			_ = ln.Close() // only probing
		}
		if free {
			return router.PortRange{First: first, Last: first + n - 1}
		}
	}
	t.Fatal("no free port range found")
	return router.PortRange{}
}
