package router

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
)

// clientListener hands net/http client connections that note what a
// request head said and net/http hides, and the stack port they came in
// on (0: the traffic listener).
type clientListener struct {
	net.Listener
	port int
}

func (l clientListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &clientConn{Conn: c, scan: headScan{pos: -1}, port: l.port}, nil
}

// clientConn is a client connection as net/http reads it, with one
// difference: a read never returns bytes past a blank line, the end of a
// request head. When a handler starts, the bytes read so far therefore end
// exactly where its request head ends, and the head is the stretch since
// the blank line before it (together with the end of the previous body,
// if that has no blank line).
//
// It exists to see one thing net/http hides: whether a chunked request's
// head also had a Content-Length line (net/http deletes that header when
// Transfer-Encoding is chunked). RFC 9112 §6.1 says to close the
// connection after answering such a request.
type clientConn struct {
	net.Conn
	scan    headScan
	pending []byte // read from the socket after a blank line, not yet returned
	buf     []byte // pending's backing array, kept for the next cut
	errLeft error  // the error of the read that filled pending
	tunnel  bool   // hijacked for an upgrade: no more heads to scan
	port    int    // the stack port it came in on; 0: the traffic listener
}

// Read reads as net.Conn does, cut after the first blank line. net/http
// never reads a connection from two goroutines at once (and a hijacked
// one is read by one goroutine).
func (c *clientConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		if !c.tunnel {
			n = c.scan.feed(p[:n])
		}
		c.pending = c.pending[n:]
		var err error
		if len(c.pending) == 0 {
			err, c.errLeft = c.errLeft, nil
		}
		return n, err
	}
	n, err := c.Conn.Read(p)
	if n > 0 && !c.tunnel {
		if k := c.scan.feed(p[:n]); k < n {
			c.buf = append(c.buf[:0], p[k:n]...)
			c.pending, c.errLeft, err = c.buf, err, nil
			n = k
		}
	}
	return n, err
}

// CloseWrite half-closes the connection, for net/http's lingering close
// and the end of an upgraded tunnel.
func (c *clientConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

type clientConnKey struct{}

// withClientConn is the server's ConnContext: it lets a handler find its
// connection.
func withClientConn(ctx context.Context, c net.Conn) context.Context {
	if cc, ok := c.(*clientConn); ok {
		return context.WithValue(ctx, clientConnKey{}, cc)
	}
	return ctx
}

// stackPort is the stack port req came in on; 0 for the traffic listener.
func stackPort(req *http.Request) int {
	cc, _ := req.Context().Value(clientConnKey{}).(*clientConn)
	if cc == nil {
		return 0
	}
	return cc.port
}

// headHadContentLength reports whether the head of req, a request the
// handler has just started, had a Content-Length line. Only for a chunked
// request: its body is not read yet, so no read runs while this looks.
func headHadContentLength(req *http.Request) bool {
	cc, _ := req.Context().Value(clientConnKey{}).(*clientConn)
	return cc != nil && cc.scan.headCL.Load()
}

// clMarker is a Content-Length line's start, as net/http accepts it: the
// name in any case, the colon right after it.
const clMarker = "content-length:"

// headScan follows the lines of a connection's bytes: where blank lines
// end, and whether a Content-Length line came since the last one.
type headScan struct {
	// pos is how many bytes of the current line were seen while they
	// still may start a Content-Length line (or are the "\r" of a blank
	// line, cr); -1 once the line can be neither.
	pos    int
	cr     bool
	segCL  bool        // a Content-Length line since the last blank line
	headCL atomic.Bool // the stretch the last blank line ended had one
}

// feed scans p and returns how much of it to hand on: up to and including
// the first blank line's end, or all of it.
func (s *headScan) feed(p []byte) int {
	for i := 0; i < len(p); {
		if s.pos < 0 { // skip the rest of the line
			j := bytes.IndexByte(p[i:], '\n')
			if j < 0 {
				return len(p)
			}
			i += j + 1
			s.pos = 0
			continue
		}
		c := p[i]
		i++
		switch {
		case c == '\n' && (s.pos == 0 || s.cr): // a blank line: "\n\n" or "\n\r\n"
			s.headCL.Store(s.segCL)
			s.segCL, s.pos, s.cr = false, 0, false
			return i
		case c == '\n': // a short line ended
			s.pos = 0
		case s.pos == 0 && c == '\r':
			s.pos, s.cr = 1, true
		case !s.cr && lower(c) == clMarker[s.pos]:
			if s.pos++; s.pos == len(clMarker) {
				s.segCL, s.pos = true, -1
			}
		default:
			s.pos, s.cr = -1, false
		}
	}
	return len(p)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
