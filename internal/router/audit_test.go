package router

// The raw-bytes audit of the hand-written router (issue 7), finding by
// finding: each test sends the exact bytes to the router's server on a
// loopback port and asserts what the client and a real target see.

import (
	"bufio"
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

const smuggled = "GET /smuggled HTTP/1.1\r\nHost: app.localhost\r\n\r\n"

// Finding 1: a header named by Connection must never drop the framing or
// the Host: the target sees one request with the whole body, and the next
// client on the pooled connection gets its own answer.
func TestAuditConnectionHeaderCannotSmuggle(t *testing.T) {
	chunked := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(smuggled), smuggled)
	tests := map[string]struct{ raw, wantBody string }{
		"Connection: Content-Length": {
			"POST /a HTTP/1.1\r\nHost: app.localhost\r\nConnection: Content-Length\r\nContent-Length: " + fmt.Sprint(len(smuggled)) + "\r\n\r\n" + smuggled, smuggled},
		"Connection: close, content-length": {
			"POST /a HTTP/1.1\r\nHost: app.localhost\r\nConnection: close, content-length\r\nContent-Length: " + fmt.Sprint(len(smuggled)) + "\r\n\r\n" + smuggled, smuggled},
		"Connection: Transfer-Encoding with a chunked body": {
			"POST /a HTTP/1.1\r\nHost: app.localhost\r\nConnection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked, smuggled},
		"Connection: Host": {
			"GET /a HTTP/1.1\r\nHost: app.localhost\r\nConnection: Host\r\n\r\n", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rt := newRawTarget(t, echoPath)
			tr := routeTo(t, rt, "")
			resp, body := send(t, tr, tc.raw, "")
			if resp.StatusCode != 200 || body != "/a" {
				t.Fatalf("first client got %d %q, want 200 /a", resp.StatusCode, body)
			}
			for i := range 3 { // the next clients reuse the pooled target connection
				resp, body = send(t, tr, "GET /b HTTP/1.1\r\nHost: app.localhost\r\n\r\n", "")
				if resp.StatusCode != 200 || body != "/b" {
					t.Fatalf("next client %d got %d %q, want its own 200 /b", i, resp.StatusCode, body)
				}
			}
			reqs := rt.requests()
			if len(reqs) != 4 || reqs[0].path != "/a" || reqs[0].body != tc.wantBody || reqs[0].host != "app.localhost" {
				t.Fatalf("target saw %+v; want /a (host app.localhost, the whole body) then /b three times", reqs)
			}
			for _, r := range reqs {
				if r.path == "/smuggled" {
					t.Fatal("the body reached the target as a request of its own")
				}
			}
		})
	}
}

// Finding 2: a target that sends more than it should (a body on 204, 304
// or HEAD; bytes after the Content-Length body) must not hand those bytes
// to the next client.
func TestAuditOverlongAnswersDoNotPoisonThePool(t *testing.T) {
	const poison = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\npoisoned"
	rt := newRawTarget(t, func(conn net.Conn, req *http.Request, _ []byte) bool {
		var out string
		switch {
		case req.URL.Path == "/next":
			out = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"
		case req.Method == http.MethodHead:
			out = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\npoisoned"
		case req.URL.Path == "/204":
			out = "HTTP/1.1 204 No Content\r\n\r\n" + poison
		case req.URL.Path == "/304":
			out = "HTTP/1.1 304 Not Modified\r\n\r\n" + poison
		default:
			out = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + poison
		}
		_, err := io.WriteString(conn, out)
		return err == nil
	})
	tr := routeTo(t, rt, "")
	for _, first := range []struct{ method, path string }{{"GET", "/204"}, {"GET", "/304"}, {"HEAD", "/head"}, {"GET", "/extra"}} {
		for i := range 10 {
			resp, _ := send(t, tr, first.method+" "+first.path+" HTTP/1.1\r\nHost: app.localhost\r\n\r\n", first.method)
			if resp.StatusCode >= 500 {
				t.Fatalf("%s %s: %d", first.method, first.path, resp.StatusCode)
			}
			resp, body := send(t, tr, "GET /next HTTP/1.1\r\nHost: app.localhost\r\n\r\n", "")
			if resp.StatusCode != 200 || body != "next" {
				t.Fatalf("after %s %s (round %d) the next client got %d %q, want 200 next", first.method, first.path, i, resp.StatusCode, body)
			}
		}
	}
}

// Finding 3: a target that streams its answer while it still reads a
// 64 MiB upload must not deadlock.
func TestAuditFullDuplexUploadDoesNotDeadlock(t *testing.T) {
	const size, chunk = 64 << 20, 1 << 20
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		_ = http.NewResponseController(w).EnableFullDuplex()
		buf := make([]byte, chunk)
		for {
			n, err := io.ReadFull(r.Body, buf)
			if n > 0 { // answer each MiB read with a MiB written, before reading on
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(target.Close)
	tr := startRouter(t, Options{})
	tr.replace(t, Table{Targets: []Target{{Name: "app", URL: target.URL}}, Production: []Weighted{{Target: "app", Weight: 1}}}, "app")

	conn, err := net.Dial("tcp", strings.TrimPrefix(tr.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	werr := make(chan error, 1)
	go func() {
		if _, err := fmt.Fprintf(conn, "POST /dup HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: %d\r\n\r\n", size); err != nil {
			werr <- err
			return
		}
		_, err := io.CopyN(conn, zeros{}, size)
		werr <- err
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v (a deadlock ends at the 60s deadline)", err)
	}
	n, err := io.CopyN(io.Discard, resp.Body, size)
	if err != nil || n != size || resp.StatusCode != 200 {
		t.Fatalf("got %d and %d of %d bytes back: %v", resp.StatusCode, n, size, err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("upload: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// Finding 4: a silent target gets 504 after the idle timeout, and a client
// that leaves cancels its request to the target.
func TestAuditSilentTargetIs504AfterTheIdleTimeout(t *testing.T) {
	hung := make(chan struct{})
	rt := newRawTarget(t, func(net.Conn, *http.Request, []byte) bool { <-hung; return false })
	t.Cleanup(func() { close(hung) }) // runs before the target's cleanup
	tr := routeTo(t, rt, "300ms")
	start := time.Now()
	resp, body := send(t, tr, "GET /hang HTTP/1.1\r\nHost: app.localhost\r\n\r\n", "")
	took := time.Since(start)
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(body, `target "app" did not answer within the idle timeout`) {
		t.Fatalf("got %d %q, want 504 naming the target", resp.StatusCode, body)
	}
	if took < 250*time.Millisecond {
		t.Fatalf("504 after %v, before the 300ms idle timeout", took)
	}
	if strings.Contains(body, "127.0.0.1") {
		t.Fatalf("the 504 shows an internal address: %q", body)
	}
}

func TestAuditClientThatLeavesCancelsItsRequest(t *testing.T) {
	arrived, cancelled := make(chan struct{}), make(chan struct{})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		close(arrived)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(30 * time.Second):
		}
	}))
	t.Cleanup(target.Close)
	tr := startRouter(t, Options{})
	tr.replace(t, Table{Targets: []Target{{Name: "app", URL: target.URL}}, Production: []Weighted{{Target: "app", Weight: 1}}}, "app")
	conn, err := net.Dial("tcp", strings.TrimPrefix(tr.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, "GET /wait HTTP/1.1\r\nHost: app.localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	<-arrived
	_ = conn.Close()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the target's request was not cancelled after the client left")
	}
	waitFor(t, "no request in flight", func() bool { return tr.Status().Targets[0].InFlight == 0 })
}

// Finding 5: after a target closes its idle keep-alive connections (a
// short keep-alive timeout, like Node's 5s), the next GET and POST succeed.
func TestAuditStaleKeepAliveConnectionsGiveNo502(t *testing.T) {
	var closed atomic.Int64
	target := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = fmt.Fprintf(w, "%s %s", r.Method, b)
	}))
	target.Config.IdleTimeout = 100 * time.Millisecond
	target.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed.Add(1)
		}
	}
	target.Start()
	t.Cleanup(target.Close)
	tr := startRouter(t, Options{})
	tr.replace(t, Table{Targets: []Target{{Name: "app", URL: target.URL}}, Production: []Weighted{{Target: "app", Weight: 1}}}, "app")
	for i := range 5 {
		before := closed.Load()
		for _, raw := range []string{"GET / HTTP/1.1\r\nHost: app.localhost\r\n\r\n", "POST / HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: 4\r\n\r\nbody"} {
			resp, body := send(t, tr, raw, "")
			if resp.StatusCode != 200 || !strings.HasPrefix(body, raw[:3]) {
				t.Fatalf("round %d: %q got %d %q", i, raw[:4], resp.StatusCode, body)
			}
		}
		waitFor(t, "the target to close its idle connections", func() bool { return closed.Load() > before })
	}
}

// A client that leaves in the middle of a streamed answer cancels the
// target's request too, and the request leaves the in-flight count (drains
// wait on it).
func TestAuditClientThatLeavesMidStreamIsCounted(t *testing.T) {
	cancelled := make(chan struct{})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		for {
			select {
			case <-r.Context().Done():
				close(cancelled)
				return
			case <-time.After(10 * time.Millisecond):
				if _, err := io.WriteString(w, "more\n"); err != nil {
					close(cancelled)
					return
				}
				w.(http.Flusher).Flush()
			}
		}
	}))
	t.Cleanup(target.Close)
	tr := startRouter(t, Options{})
	tr.replace(t, Table{Targets: []Target{{Name: "app", URL: target.URL}}, Production: []Weighted{{Target: "app", Weight: 1}}}, "app")
	conn, err := net.Dial("tcp", strings.TrimPrefix(tr.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET /stream HTTP/1.1\r\nHost: app.localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(conn).ReadString('\n'); err != nil || line != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	_ = conn.Close()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the target kept streaming after the client left")
	}
	waitFor(t, "no request in flight", func() bool { return tr.Status().Targets[0].InFlight == 0 })
}
