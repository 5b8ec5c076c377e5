package router

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// proxyTo starts a router whose production rule sends everything to h
// (with a passing /healthz).
func proxyTo(t *testing.T, h http.HandlerFunc) (*testRouter, *httptest.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		h(w, r)
	}))
	srv.Start()
	t.Cleanup(srv.Close)
	tr := startRouter(t, Options{})
	tr.replace(t, Table{Targets: []Target{{Name: "app", URL: srv.URL}}, Production: []Weighted{{Target: "app", Weight: 1}}}, "app")
	return tr, srv
}

func TestForwardedHeaders(t *testing.T) {
	tr, _ := proxyTo(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "xff=%s proto=%s host=%s fhost=%s conn=%q", r.Header.Get("X-Forwarded-For"),
			r.Header.Get("X-Forwarded-Proto"), r.Host, r.Header.Get("X-Forwarded-Host"), r.Header.Get("Keep-Alive"))
	})
	_, body := get(t, keepAliveClient(t), tr.url+"/", "app.localhost:8080",
		map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "Keep-Alive": "timeout=5"})
	want := `xff=203.0.113.9, 127.0.0.1 proto=http host=app.localhost:8080 fhost=app.localhost:8080 conn=""`
	if body != want {
		t.Fatalf("backend saw %s\nwant          %s", body, want)
	}
}

func TestStreamingResponseArrivesAsWritten(t *testing.T) {
	release := make(chan struct{})
	tr, _ := proxyTo(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		_, _ = io.WriteString(w, "second\n")
	})
	resp, err := http.Get(tr.url + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first line %q, %v: the router held back a streamed chunk", line, err)
	}
	close(release)
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "second\n" {
		t.Fatalf("rest %q, %v", rest, err)
	}
}

func TestBodiesPassThrough(t *testing.T) {
	tr, _ := proxyTo(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/echo":
			h := sha256.New()
			n, _ := io.Copy(h, r.Body)
			fmt.Fprintf(w, "%d %x %v", n, h.Sum(nil), r.TransferEncoding)
		case "/big":
			_, _ = w.Write(bytes.Repeat([]byte("0123456789abcdef"), 1<<16))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		}
	})
	c := keepAliveClient(t)
	big := bytes.Repeat([]byte("x"), 3<<20)
	sum := fmt.Sprintf("%x", sha256.Sum256(big))
	tests := map[string]struct {
		method, path string
		body         io.Reader
		length       int64
		want         string
	}{
		"a Content-Length upload arrives whole":  {"POST", "/echo", bytes.NewReader(big), int64(len(big)), fmt.Sprintf("%d %s []", len(big), sum)},
		"a chunked upload stays chunked":         {"POST", "/echo", io.MultiReader(bytes.NewReader(big)), -1, fmt.Sprintf("%d %s [chunked]", len(big), sum)},
		"a 1 MiB download arrives whole":         {"GET", "/big", nil, 0, strings.Repeat("0123456789abcdef", 1<<16)},
		"a 204 has no body and keeps the conn":   {"GET", "/empty", nil, 0, ""},
		"a HEAD gets headers only":               {"HEAD", "/big", nil, 0, ""},
		"a GET after a HEAD on the same conn ok": {"GET", "/empty", nil, 0, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tr.url+tc.path, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = tc.length
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil || string(got) != tc.want {
				t.Fatalf("body (%d bytes) %.80q, %v; want %.80q", len(got), got, err, tc.want)
			}
		})
	}
}

func TestTargetFailureIs502(t *testing.T) {
	tr, _ := proxyTo(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close() // the failure under test
		}
	})
	resp, body := get(t, keepAliveClient(t), tr.url+"/boom", "", nil)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, `target "app" failed`) {
		t.Fatalf("got %d %q, want 502 naming the target", resp.StatusCode, body)
	}
}

// rawExchange writes raw to the router and returns everything it sends
// back until it closes the connection.
func rawExchange(t *testing.T, addr, raw string) string {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(addr, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, out)
	}
	return string(out)
}

func TestRawProtocolEdges(t *testing.T) {
	tr, _ := proxyTo(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/close": // an old-style body delimited by closing the connection
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_, _ = io.WriteString(conn, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close")
				_ = conn.Close()
			}
			return
		case "/read":
			b, _ := io.ReadAll(r.Body)
			_, _ = io.WriteString(w, "read "+string(b))
			return
		case "/hdr":
			_, _ = io.WriteString(w, "x-secret="+r.Header.Get("X-Secret"))
			return
		}
		_, _ = io.WriteString(w, "hello ")
		w.(http.Flusher).Flush() // forces a chunked response
		_, _ = io.WriteString(w, r.URL.Path)
	})
	tests := map[string]struct {
		raw  string
		want []string
	}{
		"an HTTP/1.0 client gets a chunked body unchunked, then close": {
			"GET /one HTTP/1.0\r\nHost: app.localhost\r\n\r\n", []string{"HTTP/1.0 200 OK\r\n", "\r\n\r\nhello /one"}},
		"pipelined requests are answered in order": {
			"GET /a HTTP/1.1\r\nHost: app.localhost\r\n\r\nGET /b HTTP/1.1\r\nHost: app.localhost\r\nConnection: close\r\n\r\n",
			[]string{"HTTP/1.1 200 OK", "hello ", "/a\r\n", "HTTP/1.1 200 OK", "hello ", "/b\r\n"}},
		"a body delimited by close reaches the client, which is then closed": {
			"GET /close HTTP/1.1\r\nHost: app.localhost\r\nConnection: close\r\n\r\n", []string{"HTTP/1.1 200 OK\r\n", "\r\n\r\nb\r\nuntil close\r\n0\r\n\r\n"}},
		"Expect: 100-continue is passed through before the body": {
			"POST /read HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nhello",
			[]string{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", "read hello"}},
		"headers named by Connection are not forwarded": {
			"GET /hdr HTTP/1.1\r\nHost: app.localhost\r\nConnection: X-Secret, close\r\nX-Secret: 1\r\n\r\n", []string{"200 OK", "Content-Length: 9\r\n", "\r\n\r\nx-secret="}},
		"a malformed header is 400": {
			"GET / HTTP/1.1\r\nHost app.localhost\r\n\r\n", []string{"HTTP/1.1 400 Bad Request"}},
		"HTTP/2 prior knowledge is refused": {
			"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", []string{"HTTP/1.1 505 HTTP Version Not Supported"}},
		"an unsupported Transfer-Encoding is refused": {
			"POST / HTTP/1.1\r\nHost: app.localhost\r\nTransfer-Encoding: gzip\r\n\r\n", []string{"HTTP/1.1 501 Not Implemented"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := rawExchange(t, tr.url, tc.raw)
			rest := out
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("response lacks %q (in order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestUpgradeTunnels(t *testing.T) {
	tr, _ := proxyTo(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "want Upgrade: echo", http.StatusBadRequest)
			return
		}
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer func() { _ = conn.Close() }()
		_, _ = io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		line, _ := brw.ReadString('\n')
		_, _ = io.WriteString(conn, "echo: "+line)
	})
	conn, err := net.Dial("tcp", strings.TrimPrefix(tr.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	// Like a WebSocket client, wait for the 101 before speaking the new protocol.
	_, _ = io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: app.localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade answered %v, %v; want 101", resp, err)
	}
	_, _ = io.WriteString(conn, "ping\n")
	out, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, out)
	}
	if string(out) != "echo: ping\n" {
		t.Fatalf("tunnel answered %q", out)
	}
}
