package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// Issue 16, item 10(c): a router started without -admin and -admin-net
// serves its admin API on loopback only. A raw request to 127.0.0.1 is
// answered; a connection to another address of this host is refused. (The
// old default, ":9000", listened on every interface; HAProxy and a stock
// net/http server listen where they are told, and their admin sockets are
// usually bound to loopback.)
func TestDefaultAdminListensOnLoopbackOnly(t *testing.T) {
	other := otherAddress(t)
	for _, k := range []string{"SLIPWAY_ROUTER_ADMIN", "SLIPWAY_ROUTER_ADMIN_NET"} {
		t.Setenv(k, "") // restored after the test
		if err := os.Unsetenv(k); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("GOGC", "100") // keeps tuneGC off the test process
	t.Setenv("SLIPWAY_ROUTER_TOKEN", "test-token-0123456789")
	cfg := parseFlags([]string{"-listen", "127.0.0.1:0", "-state", t.TempDir(), "-access-log=false"})
	if cfg.admin != "127.0.0.1:9000" {
		t.Fatalf("-admin defaults to %q, want 127.0.0.1:9000", cfg.admin)
	}
	host, _, err := net.SplitHostPort(cfg.admin)
	if err != nil {
		t.Fatal(err)
	}
	cfg.admin = net.JoinHostPort(host, "0") // the default's host, on a free port
	admin := startRun(t, cfg)
	_, port, err := net.SplitHostPort(admin)
	if err != nil {
		t.Fatal(err)
	}

	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", port), 5*time.Second)
	if err != nil {
		t.Fatalf("dial the admin API on loopback: %v", err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(conn).ReadString('\n'); err != nil || line != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("the admin API on loopback answered %q, %v; want 200", line, err)
	}

	if c, err := net.DialTimeout("tcp", net.JoinHostPort(other, port), 5*time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("the admin API answers on %s, another address of this host; want loopback only", other)
	}
}

// otherAddress is an IPv4 address of this host that is not loopback.
func otherAddress(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	t.Skip("this host has no IPv4 address besides loopback to try the admin port on")
	return ""
}

// startRun runs the router as main does until the end of the test and
// returns the address its admin API listens on.
func startRun(t *testing.T, cfg config) string {
	t.Helper()
	addrs := make(chan string, 1)
	log := slog.New(listenHandler{addrs})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, log) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("the router did not stop within 15s")
		}
	})
	select {
	case a := <-addrs:
		return a
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the router did not say where it listens within 10s")
	}
	return ""
}

// listenHandler passes on the admin address of the "router listening"
// line and drops every other log line.
type listenHandler struct{ addrs chan<- string }

func (h listenHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h listenHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h listenHandler) WithGroup(string) slog.Handler            { return h }

func (h listenHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "router listening" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "admin" {
			h.addrs <- strings.Fields(a.Value.String())[0]
			return false
		}
		return true
	})
	return nil
}
