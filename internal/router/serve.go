package router

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"time"
)

// cookieName is the sticky-routing cookie.
const cookieName = "slipway_client"

// stackHeader reaches a target or stack directly.
const stackHeader = "X-Slipway-Stack"

// ErrRouterClosed is returned by Serve after Shutdown.
var ErrRouterClosed = errors.New("router closed")

// newServer is a traffic server: the standard library's HTTP/1.1 framing
// with the ALB's limits and a bounded keep-alive to clients.
func (r *Router) newServer(clientIdle time.Duration, h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: clientIdle,
		IdleTimeout:       clientIdle,
		MaxHeaderBytes:    maxHeadBytes - 4096, // net/http allows 4 KiB on top
		ErrorLog:          r.errorLog,
		ConnContext:       withClientConn,
	}
}

// Serve accepts client connections on ln until Shutdown, and returns
// ErrRouterClosed then.
func (r *Router) Serve(ln net.Listener) error {
	err := r.server.Serve(clientListener{Listener: ln})
	if errors.Is(err, http.ErrServerClosed) {
		return ErrRouterClosed
	}
	return fmt.Errorf("serve traffic: %w", err)
}

// ServePort accepts client connections on ln, a stack port, until
// Shutdown, and returns ErrRouterClosed then. Every request on it goes to
// the stack that the table's port rule for ln's port names (Table.Ports),
// whatever its Host and headers: the port is the stack's own URL.
func (r *Router) ServePort(ln net.Listener) error {
	a, ok := ln.Addr().(*net.TCPAddr)
	if !ok || a.Port == 0 {
		return fmt.Errorf("serve stack port %s: not a TCP listener with a port", ln.Addr())
	}
	err := r.portServer.Serve(clientListener{Listener: ln, port: a.Port})
	if errors.Is(err, http.ErrServerClosed) {
		return ErrRouterClosed
	}
	return fmt.Errorf("serve stack port %d: %w", a.Port, err)
}

// Shutdown stops accepting connections, closes idle ones, lets requests in
// flight finish until ctx is done, then cuts what is left and stops the
// health checks.
func (r *Router) Shutdown(ctx context.Context) error {
	r.shutting.Store(true)
	var errs []error
	for _, s := range []*http.Server{r.server, r.portServer} {
		if err := s.Shutdown(ctx); err != nil {
			_ = s.Close() // cut what is left; the Shutdown error says why
			errs = append(errs, err)
		}
	}
	r.stopTargets()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("shut down router: %w", err)
	}
	return nil
}

func (r *Router) stopTargets() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.snap.Load().order {
		t.stopHealthChecks()
		t.transport.CloseIdleConnections()
	}
}

// finish counts the request and writes its access log line.
func (r *Router) finish(req *http.Request, d decision, status int, start time.Time) {
	dur := time.Since(start)
	m, name := r.local, ""
	if d.t != nil {
		m, name = d.t.metrics, d.t.name
	}
	if status == 0 {
		status = statusClientGone
	}
	m.observe(d.rule, status, dur)
	if r.access == nil {
		return
	}
	r.access.LogAttrs(context.Background(), slog.LevelInfo, "request",
		slog.String("method", req.Method),
		slog.String("host", req.Host),
		slog.String("path", truncateN(req.RequestURI, 1024)),
		slog.String("rule", d.rule.String()),
		slog.String("target", name),
		slog.Int("status", status),
		slog.Duration("duration", dur),
		slog.String("client", req.RemoteAddr))
}

// Sticky cookie around the client id.
const (
	cookiePrefix = cookieName + "="
	cookieAttrs  = "; Path=/; HttpOnly; SameSite=Lax"
)

// newClientCookie returns the Set-Cookie value for a new client and the
// random sticky-routing id in it, in one allocation. The id only spreads
// clients over the weights, so math/rand/v2's runtime-seeded ChaCha8 is
// enough.
func newClientCookie() (cookie, id string) {
	var raw [8]byte
	binary.LittleEndian.PutUint64(raw[:], rand.Uint64())
	var b [len(cookiePrefix) + 2*len(raw) + len(cookieAttrs)]byte
	n := copy(b[:], cookiePrefix)
	hex.Encode(b[n:], raw[:])
	copy(b[n+2*len(raw):], cookieAttrs)
	cookie = string(b[:])
	return cookie, cookie[n : n+2*len(raw)]
}

// truncateN shortens s to n bytes for a log line.
func truncateN(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
