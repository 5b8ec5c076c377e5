package router

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// abortError ends an exchange that can no longer be answered cleanly: the
// client went away, or the response head has already been sent. The client
// connection is closed.
type abortError struct{ err error }

func (e abortError) Error() string { return e.err.Error() }
func (e abortError) Unwrap() error { return e.err }

// statusClientGone is logged when the client leaves before its response.
const statusClientGone = 499

// forward sends the current request to t and relays the response. It
// returns the status sent (or 499) and whether the client connection may
// serve another request.
func (c *clientConn) forward(t *target, setCookie bool) (int, bool) {
	c.cur.Store(t)
	defer c.cur.Store(nil)
	for attempt := 0; ; attempt++ {
		bc, err := t.pool.get()
		if err != nil {
			return c.badGateway(t, err)
		}
		status, keep, err := c.exchange(bc, t, setCookie)
		if err == nil {
			return status, keep
		}
		t.pool.discard(bc)
		var abort abortError
		switch {
		case errors.As(err, &abort):
			if status == 0 {
				status = statusClientGone
			}
			return status, false
		case attempt == 0 && bc.reused && c.req.replayable():
			continue // a kept-alive connection the target had closed: retry once on a fresh one
		default:
			return c.badGateway(t, err)
		}
	}
}

func (c *clientConn) badGateway(t *target, err error) (int, bool) {
	msg := fmt.Sprintf("target %q failed: %v", t.name, err)
	if t.draining.Load() {
		msg = fmt.Sprintf("target %q was removed from the table and its drain deadline passed", t.name)
	}
	return http.StatusBadGateway, c.writeLocal(http.StatusBadGateway, msg)
}

// replayable reports whether the request can be sent again: no body was
// consumed and the method is idempotent.
func (r *request) replayable() bool {
	if r.hasBody() {
		return false
	}
	switch string(r.bytes(r.method)) {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// exchange runs one request/response over bc. On success bc has gone back
// to the pool or been closed; on error the caller closes it.
func (c *clientConn) exchange(bc *backendConn, t *target, setCookie bool) (int, bool, error) {
	req := &c.req
	c.writeHead(bc.bw, t)
	if req.hasBody() {
		if req.expectContinue && req.minor == 1 {
			c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			if err := c.bw.Flush(); err != nil {
				return 0, false, abortError{err}
			}
		}
		if err := c.copyRequestBody(bc.bw); err != nil {
			return 0, false, err
		}
	}
	if err := bc.bw.Flush(); err != nil {
		return 0, false, fmt.Errorf("send request: %w", err)
	}
	return c.relayResponse(bc, t, setCookie)
}

func (c *clientConn) copyRequestBody(w *bufio.Writer) error {
	var err error
	if c.req.chunked {
		err = relayChunked(w, c.br, true, c.touchFn)
	} else {
		err = copyN(w, c.br, c.req.contentLength, c.touchFn)
	}
	var se sideError
	if errors.As(err, &se) && !se.write {
		return abortError{fmt.Errorf("read request body: %w", err)}
	}
	if err != nil {
		return fmt.Errorf("send request body: %w", err)
	}
	return nil
}

// writeHead writes the request head for the target: the client's headers
// minus hop-by-hop ones, plus X-Forwarded-For/Host/Proto. bufio.Writer
// errors are sticky, so the Flush that follows reports any write error.
func (c *clientConn) writeHead(w *bufio.Writer, t *target) {
	req := &c.req
	w.Write(req.bytes(req.method))
	w.WriteByte(' ')
	w.Write(req.bytes(req.uri))
	w.WriteString(" HTTP/1.1\r\n")
	for i := range req.headers {
		if h := &req.headers[i]; !h.drop {
			w.Write(req.bytes(h.line))
			w.WriteString("\r\n")
		}
	}
	if !req.hasHost {
		w.WriteString("Host: ")
		w.WriteString(t.addr)
		w.WriteString("\r\n")
	}
	if req.connUpg && req.upgrade.end > 0 {
		w.Write(req.bytes(req.upgrade))
		w.WriteString("\r\nConnection: Upgrade\r\n")
	}
	w.WriteString("X-Forwarded-For: ")
	for _, s := range req.xff {
		w.Write(req.bytes(s))
		w.WriteString(", ")
	}
	w.WriteString(c.ip)
	if req.hasHost {
		w.WriteString("\r\nX-Forwarded-Host: ")
		w.Write(req.bytes(req.host))
	}
	w.WriteString("\r\nX-Forwarded-Proto: http\r\n\r\n")
}

// relayResponse reads the target's response and sends it to the client.
func (c *clientConn) relayResponse(bc *backendConn, t *target, setCookie bool) (int, bool, error) {
	var rh respHead
	for {
		var err error
		if rh, err = c.readResponseHead(bc.br, setCookie); err != nil {
			return 0, false, err
		}
		if rh.status >= 200 || rh.status == http.StatusSwitchingProtocols {
			break
		}
		if c.req.minor == 1 { // interim response (103 Early Hints...): pass it on
			c.bw.Write(c.resp)
			if err := c.bw.Flush(); err != nil {
				return 0, false, abortError{err}
			}
		}
	}
	if rh.status == http.StatusSwitchingProtocols {
		if !c.req.connUpg {
			return 0, false, errors.New("target switched protocols without an upgrade request")
		}
		c.bw.Write(c.resp)
		c.tunnel(bc)
		t.pool.discard(bc)
		return rh.status, false, nil
	}
	c.bw.Write(c.resp)
	var err error
	switch rh.body {
	case bodyChunked:
		err = relayChunked(c.bw, bc.br, c.req.minor == 1, nil)
	case bodyLength:
		err = copyN(c.bw, bc.br, rh.length, nil)
	case bodyUntilClose:
		err = copyUntilEOF(c.bw, bc.br)
	}
	if err != nil {
		return rh.status, false, abortError{fmt.Errorf("relay response body: %w", err)}
	}
	if rh.backendKeep {
		t.pool.put(bc)
	} else {
		t.pool.discard(bc)
	}
	return rh.status, rh.clientKeep, nil
}

// tunnel copies both ways after a protocol upgrade (WebSocket) until either
// side closes; then both connections are closed.
func (c *clientConn) tunnel(bc *backendConn) {
	if err := c.bw.Flush(); err != nil {
		return
	}
	c.readDeadline = time.Time{}
	_ = c.c.SetReadDeadline(time.Time{}) // an upgraded connection may idle; a closed one fails below anyway
	done := make(chan struct{}, 2)
	stop := func() {
		_ = c.c.SetDeadline(time.Unix(1, 0))  // unblock the other direction;
		_ = bc.c.SetDeadline(time.Unix(1, 0)) // both connections close next
		done <- struct{}{}
	}
	go func() {
		_, _ = c.br.WriteTo(bc.c) // ends when either side closes, which is the normal end
		stop()
	}()
	go func() {
		_, _ = bc.br.WriteTo(c.c)
		stop()
	}()
	<-done
	<-done
}
