package router

import (
	"bufio"
	"errors"
	"net"
	"net/http"
)

// recorder is the ResponseWriter of one client request. It remembers the
// status written, for metrics and the access log. While hold is set (the
// proxy answers), it keeps a final status back until the first body byte
// or flush: until then nothing of the answer is sent, and a target that
// breaks off can still get the client a 502.
type recorder struct {
	http.ResponseWriter
	status int
	hold   bool
	held   int // the final status kept back, or 0
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 || w.status < 200 {
		w.status = code
	}
	if w.hold && code >= 200 {
		w.held = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

// commit passes on the status kept back, if any.
func (w *recorder) commit() {
	if code := w.held; code != 0 {
		w.held = 0
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.commit()
	return w.ResponseWriter.Write(b)
}

// FlushError sends what is written so far, the status first.
func (w *recorder) FlushError() error {
	w.commit()
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *recorder) Flush() { _ = w.FlushError() }

// Hijack takes the client connection over for an upgrade (the proxy
// hijacks only after a 101). Bytes the client sent after its upgrade
// request are in net/http's read buffer by then; the connection returned
// reads them first, so that they reach the target (the proxy copies from
// the connection, not from that buffer).
func (w *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return conn, brw, err
	}
	w.held, w.status = 0, http.StatusSwitchingProtocols
	if cc, ok := conn.(*clientConn); ok {
		cc.tunnel = true // the goroutines that read it start after this
	}
	if brw.Reader.Buffered() > 0 {
		conn = &bufferedConn{Conn: conn, r: brw.Reader}
	}
	return conn, brw, nil
}

// Unwrap lets http.ResponseController reach full duplex and deadlines.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// bufferedConn is a hijacked connection whose first bytes are still in
// net/http's read buffer r.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader // nil once emptied
}

func (c *bufferedConn) Read(p []byte) (int, error) {
	if c.r != nil {
		if c.r.Buffered() > 0 {
			return c.r.Read(p) // only from the buffer: it holds data
		}
		c.r = nil
	}
	return c.Conn.Read(p)
}

// CloseWrite ends the tunnel toward the client once the target is done.
func (c *bufferedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// closeAfterResponse makes net/http close the client connection after the
// current response, also when its header is already written (where a
// Connection: close header no longer can). http.MaxBytesReader is the
// documented way: past its limit "it tells the ResponseWriter to close the
// connection after the limit has been reached". net/http then says
// Connection: close in the header if that is not sent yet, and closes
// after the response either way. w must be net/http's own ResponseWriter.
func closeAfterResponse(w http.ResponseWriter) {
	var b [1]byte
	_, _ = http.MaxBytesReader(w, oneByte{}, 0).Read(b[:]) // the limit error is the point
}

// oneByte is an endless stream of one-byte reads.
type oneByte struct{}

func (oneByte) Read(p []byte) (int, error) { return copy(p, "x"), nil }
func (oneByte) Close() error               { return nil }
