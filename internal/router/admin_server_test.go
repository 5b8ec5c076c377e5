package router

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue 16, item 10(b): a local client without the admin token cannot hold
// an admin connection open: the admin server closes one that sends no
// head, a head that does not end, a body that does not end, or that stays
// idle after its answer. net/http without timeouts (the admin server
// before) holds each of them forever; HAProxy closes them after its
// "timeout http-request", "timeout client" and "timeout
// http-keep-alive".
func TestAuditAdminServerClosesSlowAndIdleClients(t *testing.T) {
	const idle = 300 * time.Millisecond
	tr := startRouter(t, Options{ClientIdleTimeout: idle})
	tests := map[string]struct{ raw, wantAnswer string }{
		"a connection that sends nothing": {"", ""},
		"a head that does not end":        {"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n", ""},
		"a body that does not end":        {"PUT /table HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{", "HTTP/1.1 401 "},
		"an idle connection after a 401":  {"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "HTTP/1.1 401 "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(tr.admin, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }()
			start := time.Now()
			if err := conn.SetDeadline(start.Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(conn, tc.raw); err != nil {
				t.Fatal(err)
			}
			out, err := io.ReadAll(conn)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the connection is still open after 5s (read %q)", truncate(out))
			}
			if err != nil && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("read: %v", err)
			}
			if !strings.HasPrefix(string(out), tc.wantAnswer) {
				t.Fatalf("got %q before the close, want %q first", truncate(out), tc.wantAnswer)
			}
			if took := time.Since(start); took < idle-50*time.Millisecond {
				t.Fatalf("closed after %v, before the %v timeout", took, idle)
			}
		})
	}
}
