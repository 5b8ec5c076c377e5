package router

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// Client connection states, for Shutdown.
const (
	connIdle int32 = iota
	connActive
	connClosing
)

// clientConn is one client connection; its requests are served one after
// another by one goroutine, with buffers reused across requests.
type clientConn struct {
	r     *Router
	c     net.Conn
	br    *bufio.Reader
	bw    *bufio.Writer
	ip    string
	state atomic.Int32
	cur   atomic.Pointer[target] // target of the request in flight
	cut   atomic.Bool

	readDeadline time.Time
	touchFn      func()
	req          request
	resp         []byte
	id           [16]byte
}

// Serve accepts client connections on ln until Shutdown, and returns
// ErrRouterClosed then.
func (r *Router) Serve(ln net.Listener) error {
	r.connsMu.Lock()
	if r.shutting.Load() {
		r.connsMu.Unlock()
		return ErrRouterClosed
	}
	r.listeners[ln] = struct{}{}
	r.connsMu.Unlock()
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if r.shutting.Load() {
				return ErrRouterClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("accept connection: %w", err)
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			r.log.Warn("accept connection failed; retrying", "error", err, "backoff", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if cc := r.newConn(conn); cc != nil {
			go cc.serve()
		}
	}
}

func (r *Router) newConn(conn net.Conn) *clientConn {
	cc := &clientConn{r: r, c: conn, br: bufio.NewReaderSize(conn, bufSize), bw: bufio.NewWriterSize(conn, bufSize)}
	cc.touchFn = cc.touch
	cc.req.contentLength = -1
	if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		cc.ip = a.IP.String()
	} else {
		cc.ip = conn.RemoteAddr().String()
	}
	r.connsMu.Lock()
	defer r.connsMu.Unlock()
	if r.shutting.Load() {
		_ = conn.Close() // shutting down: the client sees the close
		return nil
	}
	r.conns[cc] = struct{}{}
	r.connWG.Add(1)
	return cc
}

func (c *clientConn) serve() {
	defer func() {
		_ = c.c.Close() // the connection is done either way
		c.r.connsMu.Lock()
		delete(c.r.conns, c)
		c.r.connsMu.Unlock()
		c.r.connWG.Done()
	}()
	for c.awaitRequest() {
		if !c.serveRequest() || c.r.shutting.Load() {
			_ = c.bw.Flush() // closing anyway; a client that left cannot be told
			return
		}
	}
}

// awaitRequest flushes the previous response unless a pipelined request is
// already buffered, then waits for the next request to start.
func (c *clientConn) awaitRequest() bool {
	if c.br.Buffered() == 0 && c.bw.Buffered() > 0 {
		if err := c.bw.Flush(); err != nil {
			return false
		}
	}
	c.state.Store(connIdle)
	if c.r.shutting.Load() {
		return false
	}
	c.touch()
	if _, err := c.br.Peek(1); err != nil {
		return false
	}
	return c.state.CompareAndSwap(connIdle, connActive)
}

// touch pushes the idle deadline forward, at most every half idle timeout
// so that busy connections do not reset timers on every read.
func (c *clientConn) touch() {
	if c.cut.Load() {
		return
	}
	now := time.Now()
	if c.readDeadline.Sub(now) > c.r.idleTimeout/2 {
		return
	}
	c.readDeadline = now.Add(c.r.idleTimeout)
	_ = c.c.SetReadDeadline(c.readDeadline) // fails only on a closed conn, which the next read reports
}

// serveRequest serves one request and reports whether the connection may
// serve another.
func (c *clientConn) serveRequest() bool {
	req := &c.req
	if err := readRequest(c.br, req); err != nil {
		c.rejectRequest(err)
		return false
	}
	start := time.Now()
	var id []byte
	newID := !req.hasClientID
	if newID {
		id = c.newClientID()
	} else {
		id = req.bytes(req.clientID)
	}
	for attempt := 0; ; attempt++ {
		d := c.r.snap.Load().route(req.bytes(req.host), req.bytes(req.stack), req.hasStack, id)
		if d.status == 0 && !d.t.acquire() {
			if attempt < 3 {
				continue // the target began draining: route again by the new table
			}
			d = decision{rule: d.rule, status: http.StatusServiceUnavailable, msg: "the routing table is changing; retry"}
		}
		if d.status != 0 {
			keep := c.writeLocal(d.status, d.msg)
			c.finish(d, d.status, start)
			return keep
		}
		status, keep := c.forward(d.t, newID && d.rule == ruleProduction)
		d.t.release()
		c.finish(d, status, start)
		return keep
	}
}

// finish counts the request and writes its access log line.
func (c *clientConn) finish(d decision, status int, start time.Time) {
	dur := time.Since(start)
	m, name := c.r.local, ""
	if d.t != nil {
		m, name = d.t.metrics, d.t.name
	}
	m.observe(d.rule, status, dur)
	if c.r.access == nil {
		return
	}
	req := &c.req
	c.r.access.LogAttrs(context.Background(), slog.LevelInfo, "request",
		slog.String("method", string(req.bytes(req.method))),
		slog.String("host", string(req.bytes(req.host))),
		slog.String("path", string(req.bytes(req.uri))),
		slog.String("rule", d.rule.String()),
		slog.String("target", name),
		slog.Int("status", status),
		slog.Duration("duration", dur),
		slog.String("client", c.ip))
}

func (c *clientConn) newClientID() []byte {
	const hex = "0123456789abcdef"
	v := rand.Uint64()
	for i := len(c.id) - 1; i >= 0; i-- {
		c.id[i] = hex[v&15]
		v >>= 4
	}
	return c.id[:]
}

// rejectRequest answers a request head that cannot be served.
func (c *clientConn) rejectRequest(err error) {
	if connGone(err) {
		return
	}
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, errHeadTooLarge):
		status = http.StatusRequestHeaderFieldsTooLarge
	case errors.Is(err, errUnsupportedTE):
		status = http.StatusNotImplemented
	case errors.Is(err, errExpectation):
		status = http.StatusExpectationFailed
	}
	c.req.connClose = true
	c.writeLocal(status, err.Error())
	c.r.local.observe(ruleProduction, status, 0)
}

// writeLocal writes a plain-text answer from the router itself and reports
// whether the connection may go on (only if no request body is left unread).
// Write errors are sticky in bufio.Writer and surface at the next Flush.
func (c *clientConn) writeLocal(status int, msg string) bool {
	req := &c.req
	keep := req.keepAlive() && !req.hasBody() && !c.r.shutting.Load()
	w := c.bw
	w.WriteString("HTTP/1.1 ")
	w.WriteString(strconv.Itoa(status))
	w.WriteByte(' ')
	w.WriteString(http.StatusText(status))
	w.WriteString("\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nContent-Length: ")
	w.WriteString(strconv.Itoa(len(msg) + 1))
	w.WriteString("\r\n")
	writeConnection(w, keep, req.minor)
	w.WriteString("\r\n")
	if string(req.bytes(req.method)) != http.MethodHead {
		w.WriteString(msg)
		w.WriteByte('\n')
	}
	return keep
}

func writeConnection(w *bufio.Writer, keep bool, minor int) {
	switch {
	case !keep:
		w.WriteString("Connection: close\r\n")
	case minor == 0:
		w.WriteString("Connection: keep-alive\r\n")
	}
}

// closeIdleConns closes the connections waiting for a request.
func (r *Router) closeIdleConns() {
	r.connsMu.Lock()
	defer r.connsMu.Unlock()
	for c := range r.conns {
		if c.state.CompareAndSwap(connIdle, connClosing) {
			_ = c.c.SetReadDeadline(time.Unix(1, 0))
		}
	}
}

// cutAllConns makes every pending read and write fail now.
func (r *Router) cutAllConns() {
	r.connsMu.Lock()
	defer r.connsMu.Unlock()
	for c := range r.conns {
		c.cut.Store(true)
		_ = c.c.SetDeadline(time.Unix(1, 0))
	}
}

// connGone reports whether err means the peer left or timed out, so that
// there is nobody to answer.
func connGone(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.As(err, &ne) && ne.Timeout()
}
