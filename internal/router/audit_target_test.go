package router

// The raw-bytes audit of issue 16, items 10(d) and 10(e): what the client
// sees when a target breaks off its answer, and the bytes a WebSocket
// client sends before the 101.

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Item 10(d): a target that dies before any of its body reached the client
// gets the client a 502, as if it had sent no answer at all: the router
// holds a status line back until the first body byte. Stock
// httputil.ReverseProxy has already handed the status to net/http and
// aborts the handler: the client sees a bare close. HAProxy answers 502
// while it has sent nothing of the answer.
func TestAuditTargetThatDiesBeforeItsBodyIs502(t *testing.T) {
	rt := newRawTarget(t, func(conn net.Conn, req *http.Request, body []byte) bool {
		if req.URL.Path == "/next" {
			return echoPath(conn, req, body)
		}
		_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-From-Target: yes\r\nContent-Length: 100\r\n\r\n")
		return false // closes the connection
	})
	tr := routeTo(t, rt, "")
	conn, br := dialRouter(t, tr)
	if _, err := io.WriteString(conn, "GET /dies HTTP/1.1\r\nHost: app.localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, body := readAnswer(t, br)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, `target "app" failed`) {
		t.Fatalf("got %d %q, want 502 naming the target", resp.StatusCode, body)
	}
	if resp.Header.Get("X-From-Target") != "" || strings.Contains(body, "127.0.0.1") {
		t.Fatalf("the 502 carries the dead answer's headers or an address: %v %q", resp.Header, body)
	}
	requireOpen(t, conn, br) // the client's connection is fine
}

// Item 10(d), continued: once part of the body went out, the status line
// went with it, and all the router can do is close the connection before
// the answer is complete, so that the client sees it cut (fewer bytes than
// Content-Length, or no last chunk). RFC 9112 §8: a message that ends
// before its framing says is incomplete. Stock httputil.ReverseProxy and
// HAProxy close the same way; stock ReverseProxy shows nothing at all when
// the part it had was still in net/http's buffer.
func TestAuditTargetThatDiesMidBodyCutsTheAnswer(t *testing.T) {
	sent := make(chan struct{}) // the client has the first part
	t.Cleanup(func() {
		select {
		case <-sent:
		default:
			close(sent)
		}
	})
	rt := newRawTarget(t, func(conn net.Conn, req *http.Request, _ []byte) bool {
		switch req.URL.Path {
		case "/length":
			_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
		case "/chunked":
			_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
			select {
			case <-sent:
			case <-time.After(5 * time.Second):
			}
		}
		return false // closes the connection mid-body
	})
	tr := routeTo(t, rt, "")
	for _, tc := range []struct{ path, want string }{{"/length", "partial"}, {"/chunked", "first"}} {
		t.Run(tc.path, func(t *testing.T) {
			conn, br := dialRouter(t, tr)
			if _, err := io.WriteString(conn, "GET "+tc.path+" HTTP/1.1\r\nHost: app.localhost\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no status line before the close: %v", err)
			}
			if resp.StatusCode != 200 {
				t.Fatalf("got %d, want the target's 200", resp.StatusCode)
			}
			got := make([]byte, len(tc.want))
			if _, err := io.ReadFull(resp.Body, got); err != nil || string(got) != tc.want {
				t.Fatalf("first part %q, %v; want %q", got, err, tc.want)
			}
			if tc.path == "/chunked" {
				close(sent)
			}
			rest, err := io.ReadAll(resp.Body)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("the rest of the body %q ended with %v, want it cut (unexpected EOF)", rest, err)
			}
			requireClosed(t, conn, br)
		})
	}
}

// Item 10(e): bytes a WebSocket client sends right after its upgrade
// request, before the 101 arrives, reach the target after the switch.
// HAProxy delivers them. Stock httputil.ReverseProxy loses them: it copies
// from the hijacked connection, not from the server's read buffer that
// already holds them.
func TestAuditUpgradeKeepsBytesSentBeforeThe101(t *testing.T) {
	tr, _ := proxyTo(t, func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer func() { _ = conn.Close() }()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		for range 2 {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			_, _ = io.WriteString(conn, "echo: "+line)
		}
	})
	conn, br := dialRouter(t, tr)
	// The first message goes in the same write as the upgrade request.
	if _, err := io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: app.localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade answered %v, %v; want 101", resp, err)
	}
	if _, err := io.WriteString(conn, "late\n"); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, out)
	}
	if string(out) != "echo: early\necho: late\n" {
		t.Fatalf("the tunnel answered %q, want both messages echoed in order", out)
	}
	_ = conn.Close() // ends the tunnel, and the request
	waitFor(t, "the upgrade to be counted as 1xx", func() bool { return tr.Metrics()["app"].Total("1xx") == 1 })
}
