package router

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
)

// How a response body is framed.
const (
	bodyNone = iota
	bodyLength
	bodyChunked
	bodyUntilClose
)

// respHead is what the router needs from a response head; the head to send
// to the client is built in clientConn.resp.
type respHead struct {
	status      int
	body        int
	length      int64
	backendKeep bool // the target connection can be reused
	clientKeep  bool // the client connection can serve another request
}

// respFlags are the framing headers seen while copying a response head.
type respFlags struct {
	minor                             int
	length                            int64
	te, chunked                       bool
	connClose, connKeepAlive, connUpg bool
}

// readResponseHead reads a response head from the target and builds, in
// c.resp, the head to send to the client: hop-by-hop headers are replaced,
// and Set-Cookie and Connection are added as needed.
func (c *clientConn) readResponseHead(br *bufio.Reader, setCookie bool) (respHead, error) {
	c.resp = c.resp[:0]
	if br.Buffered() == 0 && c.bw.Buffered() > 0 {
		if err := c.bw.Flush(); err != nil { // a pipelined client's previous response
			return respHead{}, abortError{err}
		}
	}
	f := respFlags{length: -1}
	rh, err := c.copyStatusLine(br, &f)
	if err != nil {
		return rh, err
	}
	for {
		line, err := readLine(br)
		if err != nil {
			return rh, fmt.Errorf("read response headers: %w", err)
		}
		if len(line) == 0 {
			break
		}
		if len(c.resp)+len(line) > maxHeadBytes {
			return rh, errors.New("response head too large")
		}
		if err := c.copyResponseHeader(line, rh.status, &f); err != nil {
			return rh, err
		}
	}
	if f.te && f.length >= 0 {
		return rh, errors.New("response has both Transfer-Encoding and Content-Length")
	}
	c.frame(&rh, &f, setCookie)
	return rh, nil
}

func (c *clientConn) copyStatusLine(br *bufio.Reader, f *respFlags) (respHead, error) {
	line, err := readLine(br)
	if err != nil {
		return respHead{}, fmt.Errorf("read response: %w", err)
	}
	// HTTP/1.x SSS[ reason]
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return respHead{}, fmt.Errorf("malformed status line %q", truncate(line))
	}
	f.minor = int(line[7] - '0')
	status := 0
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return respHead{}, fmt.Errorf("malformed status line %q", truncate(line))
		}
		status = status*10 + int(d-'0')
	}
	if status < 100 {
		return respHead{}, fmt.Errorf("malformed status code in %q", truncate(line))
	}
	c.resp = append(c.resp, "HTTP/1.1"...)
	c.resp = append(c.resp, line[8:]...)
	c.resp = append(c.resp, "\r\n"...)
	return respHead{status: status}, nil
}

// copyResponseHeader copies one header line to c.resp unless it is
// hop-by-hop, noting the framing headers in f.
func (c *clientConn) copyResponseHeader(line []byte, status int, f *respFlags) error {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return fmt.Errorf("malformed response header %q", truncate(line))
	}
	name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
	switch {
	case equalFold(name, "connection"):
		for _, tok := range bytes.Split(value, []byte(",")) {
			tok = bytes.TrimSpace(tok)
			f.connClose = f.connClose || equalFold(tok, "close")
			f.connKeepAlive = f.connKeepAlive || equalFold(tok, "keep-alive")
			f.connUpg = f.connUpg || equalFold(tok, "upgrade")
		}
		return nil
	case equalFold(name, "keep-alive"), equalFold(name, "proxy-connection"):
		return nil
	case equalFold(name, "upgrade"):
		if status != http.StatusSwitchingProtocols {
			return nil
		}
	case equalFold(name, "transfer-encoding"):
		f.te = true
		last := value
		if i := bytes.LastIndexByte(value, ','); i >= 0 {
			last = bytes.TrimSpace(value[i+1:])
		}
		f.chunked = equalFold(last, "chunked")
		if c.req.minor == 0 {
			return nil // an HTTP/1.0 client gets the body unchunked, delimited by close
		}
	case equalFold(name, "content-length"):
		n, ok := parseContentLength(value)
		if !ok || (f.length >= 0 && f.length != n) {
			return fmt.Errorf("bad response Content-Length %q", truncate(value))
		}
		if f.length >= 0 {
			return nil
		}
		f.length = n
	}
	c.resp = append(c.resp, line...)
	c.resp = append(c.resp, "\r\n"...)
	return nil
}

// frame decides the body framing and connection reuse, and ends the head.
func (c *clientConn) frame(rh *respHead, f *respFlags, setCookie bool) {
	req := &c.req
	switch {
	case rh.status < 200 || rh.status == http.StatusNoContent || rh.status == http.StatusNotModified ||
		string(req.bytes(req.method)) == http.MethodHead:
		rh.body = bodyNone
	case f.te && f.chunked:
		rh.body = bodyChunked
	case f.te:
		rh.body = bodyUntilClose
	case f.length >= 0:
		rh.body, rh.length = bodyLength, f.length
	default:
		rh.body = bodyUntilClose
	}
	rh.backendKeep = rh.body != bodyUntilClose && !f.connClose && (f.minor == 1 || f.connKeepAlive)
	rh.clientKeep = req.keepAlive() && !c.r.shutting.Load() && rh.body != bodyUntilClose &&
		!(rh.body == bodyChunked && req.minor == 0)
	if rh.status < 200 && rh.status != http.StatusSwitchingProtocols {
		c.resp = append(c.resp, "\r\n"...)
		return
	}
	if setCookie {
		c.resp = append(c.resp, "Set-Cookie: "+cookieName+"="...)
		c.resp = append(c.resp, c.id[:]...)
		c.resp = append(c.resp, "; Path=/; HttpOnly; SameSite=Lax\r\n"...)
	}
	switch {
	case rh.status == http.StatusSwitchingProtocols:
		c.resp = append(c.resp, "Connection: Upgrade\r\n"...)
	case !rh.clientKeep:
		c.resp = append(c.resp, "Connection: close\r\n"...)
	case req.minor == 0:
		c.resp = append(c.resp, "Connection: keep-alive\r\n"...)
	}
	c.resp = append(c.resp, "\r\n"...)
}

// cookieName is the sticky-routing cookie.
const cookieName = "slipway_client"
