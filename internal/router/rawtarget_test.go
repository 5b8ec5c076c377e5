package router

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// seen is one request as a raw target parsed it.
type seen struct {
	method, path, host, body string
	header                   http.Header
}

// rawTarget is a target written on a bare TCP listener, so that a test can
// make it misbehave on the wire. It answers /healthz itself; every other
// request is recorded and handed to answer, which writes raw bytes and
// says whether to keep serving the connection.
type rawTarget struct {
	ln     net.Listener
	answer func(conn net.Conn, req *http.Request, body []byte) bool
	mu     sync.Mutex
	reqs   []seen
	conns  map[net.Conn]bool
}

func newRawTarget(t *testing.T, answer func(conn net.Conn, req *http.Request, body []byte) bool) *rawTarget {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rt := &rawTarget{ln: ln, answer: answer, conns: map[net.Conn]bool{}}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		rt.mu.Lock()
		for c := range rt.conns {
			_ = c.Close()
		}
		rt.mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			rt.mu.Lock()
			rt.conns[conn] = true
			rt.mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); rt.serve(conn) }()
		}
	}()
	return rt
}

func (rt *rawTarget) url() string { return "http://" + rt.ln.Addr().String() }

func (rt *rawTarget) serve(conn net.Conn) {
	defer func() { _ = conn.Close() }()
	br := bufio.NewReader(conn)
	for {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return
		}
		if req.URL.Path == "/healthz" {
			if _, err := io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"); err != nil {
				return
			}
			continue
		}
		rt.mu.Lock()
		rt.reqs = append(rt.reqs, seen{method: req.Method, path: req.URL.RequestURI(), host: req.Host, body: string(body), header: req.Header})
		rt.mu.Unlock()
		if !rt.answer(conn, req, body) {
			return
		}
	}
}

// requests returns what the target has seen, health checks aside.
func (rt *rawTarget) requests() []seen {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]seen(nil), rt.reqs...)
}

// echoPath answers 200 with the request's path as the body.
func echoPath(conn net.Conn, req *http.Request, _ []byte) bool {
	p := req.URL.RequestURI()
	_, err := io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(p))+"\r\n\r\n"+p)
	return err == nil
}

// routeTo starts a router whose production host app.localhost goes to the
// raw target, with the given idle timeout toward it ("" for the default).
func routeTo(t *testing.T, rt *rawTarget, idle Duration) *testRouter {
	t.Helper()
	tr := startRouter(t, Options{})
	tr.replace(t, Table{Targets: []Target{{Name: "app", URL: rt.url()}},
		Production: []Weighted{{Target: "app", Weight: 1}}, IdleTimeout: idle}, "app")
	return tr
}

// send writes raw to a new connection to the router and reads one
// response to a request with the given method.
func send(t *testing.T, tr *testRouter, raw, method string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(tr.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response to %q: %v", truncate(raw), err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(b)
}
