package router

// The raw-bytes audit of issue 16, items 9 and 10(a): a request whose body
// framing cannot be trusted ends its connection, so that what follows the
// bad framing is never read as a request of its own.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// dialRouter opens a raw connection to the router's traffic port, with a
// deadline on every operation of the test.
func dialRouter(t *testing.T, tr *testRouter) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(tr.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return conn, bufio.NewReader(conn)
}

// readAnswer reads one response and its whole body from br.
func readAnswer(t *testing.T, br *bufio.Reader) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v (got %q)", err, b)
	}
	return resp, string(b)
}

// requireClosed fails the test unless the router closes conn within 3s of
// its last answer and sends nothing more before it does.
func requireClosed(t *testing.T, conn net.Conn, br *bufio.Reader) {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(3 * time.Second)); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(br)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("the connection is still open 3s after the answer (read since: %q)", truncate(rest))
	case err != nil && !errors.Is(err, syscall.ECONNRESET):
		t.Fatalf("read after the answer: %v", err)
	case len(rest) > 0:
		t.Fatalf("after the answer the router sent %q, want the connection closed", truncate(rest))
	}
}

// requireOpen fails the test unless conn still serves a request.
func requireOpen(t *testing.T, conn net.Conn, br *bufio.Reader) {
	t.Helper()
	if _, err := io.WriteString(conn, "GET /next HTTP/1.1\r\nHost: app.localhost\r\n\r\n"); err != nil {
		t.Fatalf("the connection was closed: %v", err)
	}
	if resp, body := readAnswer(t, br); resp.StatusCode != 200 || !strings.Contains(body, "/next") {
		t.Fatalf("the next request on the connection got %d %q, want 200 /next", resp.StatusCode, body)
	}
}

// Item 9: after a request body whose chunked framing is broken, the router
// answers and closes the connection; the bytes after the break never reach
// the target as a request. Stock httputil.ReverseProxy answers 502 and
// closes; HAProxy answers 400 and closes. (With full duplex on, net/http
// skips its own close after a body error: the regression of issue 16.)
func TestAuditBodyErrorClosesTheConnection(t *testing.T) {
	var smuggledHits atomic.Int64
	tr, _ := proxyTo(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/smuggled":
			smuggledHits.Add(1)
			_, _ = io.WriteString(w, "smuggled")
		case "/early": // answers before it reads the upload
			_ = http.NewResponseController(w).EnableFullDuplex()
			_, _ = io.WriteString(w, "early")
		case "/echo": // streams each byte of the upload back as it reads it
			_ = http.NewResponseController(w).EnableFullDuplex()
			b := make([]byte, 1)
			for range 1 << 10 {
				if _, err := r.Body.Read(b); err != nil {
					return
				}
				_, _ = w.Write(b)
				_ = http.NewResponseController(w).Flush()
			}
		default:
			b, err := io.ReadAll(r.Body)
			_, _ = fmt.Fprintf(w, "read %q, %v", b, err)
		}
	})
	head := func(path string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: app.localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
	}
	tests := map[string]struct {
		first, then string // sent before and after the first answer is read
		wantStatus  int
		wantClose   bool // the answer says Connection: close
	}{
		"a bad chunk-size line": {
			first: head("/c") + "1\r\nA\r\nzz\r\n" + smuggled, wantStatus: 400, wantClose: true},
		"chunk data longer than its size": {
			first: head("/c") + "3\r\nabcXX" + smuggled, wantStatus: 400, wantClose: true},
		"a malformed trailer": {
			first: head("/c") + "0\r\nbad trailer\r\n" + smuggled, wantStatus: 400, wantClose: true},
		"a bad chunk after the target answered without reading": {
			first: head("/early") + "1\r\nA\r\n", then: "zz\r\n" + smuggled, wantStatus: 200},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := smuggledHits.Load()
			conn, br := dialRouter(t, tr)
			if _, err := io.WriteString(conn, tc.first); err != nil {
				t.Fatal(err)
			}
			resp, body := readAnswer(t, br)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("got %d %q, want %d", resp.StatusCode, body, tc.wantStatus)
			}
			if tc.wantClose && !resp.Close {
				t.Fatalf("the %d does not say Connection: close (header %v)", resp.StatusCode, resp.Header)
			}
			if tc.then != "" {
				_, _ = io.WriteString(conn, tc.then) // may fail once the router has closed
			}
			requireClosed(t, conn, br)
			if n := smuggledHits.Load() - before; n != 0 {
				t.Fatalf("the bytes after the broken framing reached the target as %d request(s)", n)
			}
		})
	}
	// Where the target streams its answer while it reads, the status line
	// is already out when the framing breaks: the answer is cut and the
	// connection closed.
	t.Run("a bad chunk while the target streams its answer", func(t *testing.T) {
		before := smuggledHits.Load()
		conn, br := dialRouter(t, tr)
		if _, err := io.WriteString(conn, head("/echo")+"1\r\nA\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %v, %v; want the streamed 200", resp, err)
		}
		b := make([]byte, 1)
		if _, err := io.ReadFull(resp.Body, b); err != nil || b[0] != 'A' {
			t.Fatalf("first echoed byte %q, %v", b, err)
		}
		_, _ = io.WriteString(conn, "zz\r\n"+smuggled)
		if rest, err := io.ReadAll(resp.Body); err == nil {
			t.Fatalf("the streamed answer ended cleanly (%q), want it cut", rest)
		}
		requireClosed(t, conn, br)
		if smuggledHits.Load() != before {
			t.Fatal("the bytes after the broken framing reached the target as a request")
		}
	})
}

// Item 10(a): a request with both Content-Length and Transfer-Encoding:
// chunked is framed by Transfer-Encoding alone, as net/http does, and the
// connection is closed after the answer. RFC 9112 §6.1: "the server MUST
// close the connection after responding to such a request". HAProxy drops
// the Content-Length and closes ("T-E + C-L: force close"); stock
// httputil.ReverseProxy on net/http drops it and keeps the connection.
func TestAuditContentLengthWithChunkedClosesTheConnection(t *testing.T) {
	rt := newRawTarget(t, func(conn net.Conn, req *http.Request, body []byte) bool {
		out := req.URL.Path + " " + string(body)
		_, err := io.WriteString(conn, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(out), out))
		return err == nil
	})
	tr := routeTo(t, rt, "")
	const body = "3\r\nabc\r\n0\r\n\r\n"
	tests := map[string]struct {
		raw       string
		wantClose bool
	}{
		"Content-Length then Transfer-Encoding": {
			"POST /a HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + body, true},
		"Transfer-Encoding then content-length in lower case": {
			"POST /a HTTP/1.1\r\nHost: app.localhost\r\nTransfer-Encoding: chunked\r\ncontent-length: 99\r\n\r\n" + body, true},
		"bare LF line ends": {
			"POST /a HTTP/1.1\nHost: app.localhost\nCONTENT-LENGTH: 5\nTransfer-Encoding: chunked\n\n" + body, true},
		"after a keep-alive request on the same connection": {
			"GET /first HTTP/1.1\r\nHost: app.localhost\r\n\r\n" +
				"POST /a HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + body, true},
		"chunked alone keeps the connection": {
			"POST /a HTTP/1.1\r\nHost: app.localhost\r\nTransfer-Encoding: chunked\r\n\r\n" + body, false},
		"chunked after a Content-Length request keeps the connection": {
			"POST /first HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: 2\r\n\r\nhi" +
				"POST /a HTTP/1.1\r\nHost: app.localhost\r\nTransfer-Encoding: chunked\r\n\r\n" + body, false},
		"a body line that reads Content-Length keeps the connection": {
			"POST /a HTTP/1.1\r\nHost: app.localhost\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"17\r\n\r\nContent-Length: 1\r\n\r\n\r\n0\r\n\r\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			conn, br := dialRouter(t, tr)
			if _, err := io.WriteString(conn, tc.raw); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(tc.raw, "/first") {
				if resp, got := readAnswer(t, br); resp.StatusCode != 200 || !strings.HasPrefix(got, "/first") || resp.Close {
					t.Fatalf("the first request got %d %q (close %v), want 200 /first kept open", resp.StatusCode, got, resp.Close)
				}
			}
			resp, got := readAnswer(t, br)
			if resp.StatusCode != 200 || !strings.HasPrefix(got, "/a ") {
				t.Fatalf("got %d %q, want 200 from the target", resp.StatusCode, got)
			}
			if tc.wantClose {
				if got != "/a abc" {
					t.Fatalf("the target saw %q, want the chunked body \"abc\"", got)
				}
				if !resp.Close {
					t.Fatalf("the answer does not say Connection: close (header %v)", resp.Header)
				}
				requireClosed(t, conn, br)
				return
			}
			if resp.Close {
				t.Fatalf("the answer says Connection: close (header %v), want keep-alive", resp.Header)
			}
			requireOpen(t, conn, br)
		})
	}
}
