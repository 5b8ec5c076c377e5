package router

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// errUnsolicited is the answer to a request whose "response" was already
// waiting on a reused target connection before the request was sent: bytes
// a target sent beyond its previous response (a body on 204, 304 or HEAD,
// bytes after a Content-Length body).
var errUnsolicited = errors.New("the target sent bytes beyond its previous response on this connection")

// checkedTransport closes target connections that had unread bytes when a
// request was sent on them, so those bytes never reach a client.
//
// http.Transport closes a connection on which bytes arrive while it is
// idle, but it puts a connection back in its pool before it checks, so a
// request can pick it up and read leftovers as its answer. No legitimate
// response can arrive before its request was sent: checkedTransport notes
// how many reads of the connection had returned data when the request's
// first byte was written, and refuses a response whose bytes were all read
// before that. A request without a body is then retried once (on another
// connection: the poisoned one is closed); one with a body gets 502.
type checkedTransport struct{ t *http.Transport }

func (c checkedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		p := &connProbe{}
		p.trace.GotConn = p.gotConn
		resp, err := c.t.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), &p.trace)))
		if err != nil || p.conn == nil || p.conn.answeredAfterWrite() {
			return resp, err
		}
		_ = p.conn.Conn.Close() // poisoned: the transport drops it on the next read
		_ = resp.Body.Close()   // the leftover bytes, never shown
		if attempt > 0 || (req.Body != nil && req.Body != http.NoBody) {
			return nil, errUnsolicited
		}
	}
}

// connProbe learns which connection the transport sent a request on, and
// arms it (one allocation for the trace and the answer).
type connProbe struct {
	conn  *idleConn
	trace httptrace.ClientTrace
}

func (p *connProbe) gotConn(info httptrace.GotConnInfo) {
	if ic, ok := info.Conn.(*idleConn); ok {
		p.conn = ic
		ic.arm()
	}
}

// arm starts a request on the connection: its first write records how many
// reads had returned data until then.
func (c *idleConn) arm() { c.armed.Store(true) }

// answeredAfterWrite reports whether a read returned data after the
// current request's first byte was written.
func (c *idleConn) answeredAfterWrite() bool {
	return !c.armed.Load() && c.reads.Load() > c.mark.Load()
}

// connCheck are the idleConn fields checkedTransport uses.
type connCheck struct {
	armed atomic.Bool
	mark  atomic.Uint64 // reads with data before the request's first write
	reads atomic.Uint64 // reads that returned data
}

// idleConn is a target connection that fails a read or write once nothing
// moved in either direction for the idle timeout: the request gets 504,
// like the ALB's idle timeout. The deadline is pushed forward at most every
// eighth of the timeout, to keep timer updates off most reads and writes.
type idleConn struct {
	net.Conn
	connCheck
	timeout  *atomic.Int64 // nanoseconds
	deadline atomic.Int64  // unix nanoseconds
	set      *connSet      // the target's open connections
}

// Close closes the connection and forgets it.
func (c *idleConn) Close() error {
	c.set.remove(c)
	return c.Conn.Close()
}

func (c *idleConn) touch() {
	d := c.timeout.Load()
	now := time.Now().UnixNano()
	if c.deadline.Load()-now > d-d/8 {
		return
	}
	c.deadline.Store(now + d)
	_ = c.Conn.SetDeadline(time.Unix(0, now+d)) // fails only once closed, which the I/O reports
}

func (c *idleConn) Read(p []byte) (int, error) {
	c.touch()
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.reads.Add(1)
	}
	return n, err
}

func (c *idleConn) Write(p []byte) (int, error) {
	c.touch()
	if c.armed.Load() && c.armed.CompareAndSwap(true, false) {
		c.mark.Store(c.reads.Load())
	}
	return c.Conn.Write(p)
}
