package router

// The raw-bytes audit of issue 7, finding 6: the lesser framing defects.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Finding 6: the lesser framing defects.
func TestAuditStrictRequestFraming(t *testing.T) {
	rt := newRawTarget(t, echoPath)
	tr := routeTo(t, rt, "")
	cookie := "Cookie: big=" + strings.Repeat("c", 9<<10) + "\r\n"
	long := strings.Repeat("h", 17<<10)
	tests := map[string]struct {
		raw        string
		wantStatus int
		wantPath   string // what the target must see; "" for nothing
	}{
		"a bad chunk-size line is 400":                          {"POST /c HTTP/1.1\r\nHost: app.localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400, ""},
		"a chunk size with junk is 400":                         {"POST /c HTTP/1.1\r\nHost: app.localhost\r\nTransfer-Encoding: chunked\r\n\r\n3 x\r\nabc\r\n0\r\n\r\n", 400, ""},
		"a malformed trailer is 400":                            {"POST /c HTTP/1.1\r\nHost: app.localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nbad trailer\r\n\r\n", 400, ""},
		"a 9 KiB cookie passes (ALB: 16 KiB)":                   {"GET /cookie HTTP/1.1\r\nHost: app.localhost\r\n" + cookie + "\r\n", 200, "/cookie"},
		"a 17 KiB header line is 431":                           {"GET /h HTTP/1.1\r\nHost: app.localhost\r\nX-Long: " + long + "\r\n\r\n", 431, ""},
		"a 17 KiB request target is 414":                        {"GET /" + long + " HTTP/1.1\r\nHost: app.localhost\r\n\r\n", 414, ""},
		"a head over 64 KiB is 431":                             {"GET /h HTTP/1.1\r\nHost: app.localhost\r\n" + strings.Repeat("X-A: "+strings.Repeat("a", 8<<10)+"\r\n", 9) + "\r\n", 431, ""},
		"absolute form is routed and forwarded by its own host": {"GET http://app.localhost/abs HTTP/1.1\r\nHost: other.localhost\r\n\r\n", 200, "/abs"},
		"absolute form to an unknown host is 404":               {"GET http://other.localhost/abs HTTP/1.1\r\nHost: app.localhost\r\n\r\n", 404, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := len(rt.requests())
			resp, body := send(t, tr, tc.raw, "")
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("got %d %q, want %d", resp.StatusCode, truncate(body), tc.wantStatus)
			}
			got := rt.requests()[before:]
			switch {
			case tc.wantPath == "" && len(got) != 0:
				t.Fatalf("the target saw %+v, want nothing", got)
			case tc.wantPath != "" && (len(got) != 1 || got[0].path != tc.wantPath || got[0].host != "app.localhost"):
				t.Fatalf("the target saw %+v, want one %s with Host app.localhost", got, tc.wantPath)
			}
		})
	}
}

func TestAuditStrictResponseFraming(t *testing.T) {
	rt := newRawTarget(t, func(conn net.Conn, req *http.Request, body []byte) bool {
		var out string
		switch req.URL.Path {
		case "/cr":
			out = "HTTP/1.1 200 OK\r\nX-Bad: a\rb\r\nContent-Length: 2\r\n\r\nok"
		case "/nul":
			out = "HTTP/1.1 200 OK\r\nX-Bad: a\x00b\r\nContent-Length: 2\r\n\r\nok"
		case "/fold":
			out = "HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\nContent-Length: 2\r\n\r\nok"
		case "/badchunk":
			out = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n"
		case "/close":
			return false
		}
		_, err := io.WriteString(conn, out)
		return err == nil
	})
	tr := routeTo(t, rt, "")
	addr := rt.ln.Addr().String()
	tests := map[string]struct {
		path, want string
		status     int
	}{
		"a bare CR in a response header is 502": {"/cr", `target "app" failed`, 502},
		"a NUL in a response header is 502":     {"/nul", `target "app" failed`, 502},
		"an obs-fold is unfolded":               {"/fold", "ok", 200},
		"a target that closes at once is 502":   {"/close", `target "app" failed: it closed the connection`, 502},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			resp, body := send(t, tr, "GET "+tc.path+" HTTP/1.1\r\nHost: app.localhost\r\n\r\n", "")
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.want)
			}
			if strings.Contains(body, addr) || strings.Contains(body, "127.0.0.1") {
				t.Fatalf("the answer shows an internal address: %q", body)
			}
			for k, vs := range resp.Header {
				for _, v := range vs {
					if strings.ContainsAny(v, "\r\n\x00") {
						t.Fatalf("header %s: %q reached the client", k, v)
					}
				}
			}
			if tc.path == "/fold" && resp.Header.Get("X-Fold") != "a b" {
				t.Fatalf("X-Fold = %q, want the unfolded \"a b\"", resp.Header.Get("X-Fold"))
			}
		})
	}
	// The bad chunk-size line comes before any of the body: the client
	// gets a 502 instead (issue 16, item 10(d)).
	if resp, body := send(t, tr, "GET /badchunk HTTP/1.1\r\nHost: app.localhost\r\n\r\n", ""); resp.StatusCode != 502 || !strings.HasPrefix(body, `target "app" failed`) {
		t.Fatalf("a bad chunk-size line from the target reached the client as %d %q, want 502", resp.StatusCode, body)
	}
}

// A target that answers 413 early, without reading a large upload, gets
// its 413 to the client instead of a 502.
func TestAuditEarly413ReachesTheClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = conn.Close() }()
				br := bufio.NewReader(conn)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				if req.URL.Path == "/healthz" {
					_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
					return
				}
				_, _ = io.WriteString(conn, "HTTP/1.1 413 Content Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large")
				// A lingering close, as net/http, Node and nginx do: send FIN,
				// then drain what is still coming for a while.
				_ = conn.(*net.TCPConn).CloseWrite()
				_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, _ = io.Copy(io.Discard, br)
			}()
		}
	}()
	tr := startRouter(t, Options{})
	tr.replace(t, Table{Targets: []Target{{Name: "app", URL: "http://" + ln.Addr().String()}}, Production: []Weighted{{Target: "app", Weight: 1}}}, "app")
	conn, err := net.Dial("tcp", strings.TrimPrefix(tr.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	go func() {
		_, _ = fmt.Fprintf(conn, "POST /up HTTP/1.1\r\nHost: app.localhost\r\nContent-Length: %d\r\n\r\n", 32<<20)
		_, _ = io.CopyN(conn, zeros{}, 32<<20) // fails once the router gives up on the body
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || string(b) != "too large" {
		t.Fatalf("got %d %q, want the target's 413", resp.StatusCode, b)
	}
}
