package router

import (
	"bufio"
	"fmt"
	"net"
	"sync"
	"time"
)

// Pool sizes. maxIdlePerTarget plays the part of Transport.MaxIdleConnsPerHost:
// it must cover the concurrent connections of a busy target, or every burst
// pays for new TCP connections.
const (
	maxIdlePerTarget = 512
	backendIdleLimit = 30 * time.Second
	dialTimeout      = 5 * time.Second
	bufSize          = 8 << 10
)

// backendConn is one keep-alive connection to a target.
type backendConn struct {
	c         net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
	reused    bool
}

// connPool keeps idle keep-alive connections to one target, newest first,
// and knows every open connection so that a drain deadline can cut them.
type connPool struct {
	addr   string
	dialer net.Dialer
	mu     sync.Mutex
	idle   []*backendConn
	open   map[*backendConn]struct{}
	closed bool
}

func newConnPool(addr string) *connPool {
	return &connPool{
		addr:   addr,
		dialer: net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second},
		open:   make(map[*backendConn]struct{}),
	}
}

// get returns an idle connection or dials a new one.
func (p *connPool) get() (*backendConn, error) {
	p.mu.Lock()
	for n := len(p.idle); n > 0; n = len(p.idle) {
		bc := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		if time.Since(bc.idleSince) < backendIdleLimit {
			p.mu.Unlock()
			bc.reused = true
			return bc, nil
		}
		delete(p.open, bc)
		_ = bc.c.Close() // stale idle connection: nothing to report
	}
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("dial %s: target removed", p.addr)
	}
	return p.dial()
}

func (p *connPool) dial() (*backendConn, error) {
	c, err := p.dialer.Dial("tcp", p.addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", p.addr, err)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true) // the default already; an error here is harmless
	}
	bc := &backendConn{c: c, br: bufio.NewReaderSize(c, bufSize), bw: bufio.NewWriterSize(c, bufSize)}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = c.Close()
		return nil, fmt.Errorf("dial %s: target removed", p.addr)
	}
	p.open[bc] = struct{}{}
	p.mu.Unlock()
	return bc, nil
}

// put returns a connection whose exchange completed cleanly.
func (p *connPool) put(bc *backendConn) {
	bc.idleSince = time.Now()
	p.mu.Lock()
	if p.closed || len(p.idle) >= maxIdlePerTarget {
		delete(p.open, bc)
		p.mu.Unlock()
		_ = bc.c.Close()
		return
	}
	p.idle = append(p.idle, bc)
	p.mu.Unlock()
}

// discard closes a connection that cannot be reused.
func (p *connPool) discard(bc *backendConn) {
	p.mu.Lock()
	delete(p.open, bc)
	p.mu.Unlock()
	_ = bc.c.Close() // the exchange already failed or ended; the close error adds nothing
}

// closeIdle stops the pool: idle connections are closed now, busy ones when
// their exchange ends.
func (p *connPool) closeIdle() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	for _, bc := range idle {
		delete(p.open, bc)
	}
	p.mu.Unlock()
	for _, bc := range idle {
		_ = bc.c.Close()
	}
}

// cut makes every busy connection's pending read or write fail now.
func (p *connPool) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for bc := range p.open {
		_ = bc.c.SetDeadline(time.Unix(1, 0))
	}
}
