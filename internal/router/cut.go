package router

import (
	"errors"
	"sync"
)

// errCut fails a connection opened to a target after its drain deadline.
var errCut = errors.New("the target's drain deadline passed")

// connSet holds a target's open connections, so that the drain deadline
// cuts every request still in flight by closing them. One registration per
// connection, which carries thousands of requests, instead of a cancel
// registration per request.
type connSet struct {
	mu    sync.Mutex
	conns map[*idleConn]struct{}
	cut   bool
}

// add registers c; false once the set was cut (the caller closes c).
func (s *connSet) add(c *idleConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cut {
		return false
	}
	if s.conns == nil {
		s.conns = make(map[*idleConn]struct{})
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *connSet) remove(c *idleConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// closeAll cuts the set: it closes every connection in it, and add refuses
// new ones from then on. A request waiting on one fails at once.
func (s *connSet) closeAll() {
	s.mu.Lock()
	s.cut = true
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for c := range conns {
		_ = c.Conn.Close() // the transport reports the failure to its request
	}
}
