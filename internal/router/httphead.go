package router

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Limits on a request head, like net/http's DefaultMaxHeaderBytes.
const (
	maxHeadBytes = 64 << 10
	maxHeaders   = 256
)

// errHeadTooLarge answers 431; any other parse error answers 400.
var errHeadTooLarge = errors.New("header section too large")

// span is a byte range of request.buf.
type span struct{ start, end int32 }

// header is one request header line of request.buf.
type header struct {
	line, name, value span
	drop              bool // hop-by-hop or replaced by the router
}

// request is a parsed request head. Slices point into buf, which is reused
// from request to request on the same connection.
type request struct {
	buf     []byte
	headers []header
	method  span
	uri     span
	minor   int // HTTP/1.minor

	host, stack, clientID, upgrade    span
	hasHost, hasStack, hasClientID    bool
	xff                               []span
	contentLength                     int64 // -1: none
	chunked                           bool
	connClose, connKeepAlive, connUpg bool
	expectContinue                    bool
	connTokens                        []span // other headers named by Connection
}

func (r *request) bytes(s span) []byte { return r.buf[s.start:s.end] }

func (r *request) reset() {
	*r = request{buf: r.buf[:0], headers: r.headers[:0], xff: r.xff[:0], connTokens: r.connTokens[:0], contentLength: -1}
}

// keepAlive reports whether the client wants the connection kept open.
func (r *request) keepAlive() bool {
	if r.minor == 0 {
		return r.connKeepAlive && !r.connClose
	}
	return !r.connClose
}

func (r *request) hasBody() bool { return r.chunked || r.contentLength > 0 }

// readLine returns the next line without its line ending; it is valid until
// the next read from br.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, errHeadTooLarge
	}
	if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readRequest reads and checks one request head from br into r.
func readRequest(br *bufio.Reader, r *request) error {
	r.reset()
	line, err := readLine(br)
	if err != nil {
		return err
	}
	if err := r.parseRequestLine(line); err != nil {
		return err
	}
	for {
		line, err := readLine(br)
		if err != nil {
			if err == errHeadTooLarge {
				return err
			}
			return fmt.Errorf("read request headers: %w", err)
		}
		if len(line) == 0 {
			break
		}
		if len(r.buf)+len(line) > maxHeadBytes || len(r.headers) >= maxHeaders {
			return errHeadTooLarge
		}
		if err := r.addHeader(line); err != nil {
			return err
		}
	}
	if r.chunked && r.contentLength >= 0 {
		return errors.New("request has both Transfer-Encoding and Content-Length")
	}
	if len(r.connTokens) > 0 {
		r.dropNominated()
	}
	return nil
}

func (r *request) parseRequestLine(line []byte) error {
	r.buf = append(r.buf, line...)
	b := r.buf
	sp1 := bytes.IndexByte(b, ' ')
	if sp1 <= 0 || !isToken(b[:sp1]) {
		return fmt.Errorf("malformed request line %q", truncate(line))
	}
	rest := b[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return fmt.Errorf("malformed request line %q", truncate(line))
	}
	uri, proto := rest[:sp2], rest[sp2+1:]
	switch string(proto) {
	case "HTTP/1.1":
		r.minor = 1
	case "HTTP/1.0":
		r.minor = 0
	default:
		return fmt.Errorf("unsupported protocol %q: the router speaks HTTP/1.0 and HTTP/1.1", truncate(proto))
	}
	for _, c := range uri {
		if c <= ' ' || c == 0x7f {
			return fmt.Errorf("malformed request target %q", truncate(uri))
		}
	}
	r.method = span{0, int32(sp1)}
	r.uri = span{int32(sp1 + 1), int32(sp1 + 1 + sp2)}
	return nil
}

// addHeader appends one header line and notes what the router needs.
func (r *request) addHeader(line []byte) error {
	if line[0] == ' ' || line[0] == '\t' {
		return errors.New("obsolete header line folding is not allowed")
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || !isToken(line[:colon]) {
		return fmt.Errorf("malformed header line %q", truncate(line))
	}
	start := int32(len(r.buf))
	r.buf = append(r.buf, line...)
	vs, ve := colon+1, len(line)
	for vs < ve && (line[vs] == ' ' || line[vs] == '\t') {
		vs++
	}
	for ve > vs && (line[ve-1] == ' ' || line[ve-1] == '\t') {
		ve--
	}
	for _, c := range line[vs:ve] {
		if c < ' ' && c != '\t' || c == 0x7f {
			return fmt.Errorf("header %q has a control character", line[:colon])
		}
	}
	h := header{
		line:  span{start, start + int32(len(line))},
		name:  span{start, start + int32(colon)},
		value: span{start + int32(vs), start + int32(ve)},
	}
	if err := r.noteHeader(&h); err != nil {
		return err
	}
	r.headers = append(r.headers, h)
	return nil
}

// noteHeader records the headers that steer routing, framing and
// forwarding, and marks the hop-by-hop ones to drop.
func (r *request) noteHeader(h *header) error {
	name, value := r.bytes(h.name), r.bytes(h.value)
	switch {
	case equalFold(name, "host"):
		if r.hasHost {
			return errors.New("request has more than one Host header")
		}
		r.host, r.hasHost = h.value, true
	case equalFold(name, "content-length"):
		n, ok := parseContentLength(value)
		if !ok || (r.contentLength >= 0 && r.contentLength != n) {
			return fmt.Errorf("bad Content-Length %q", truncate(value))
		}
		h.drop = r.contentLength >= 0 // keep one copy of repeated equal values
		r.contentLength = n
	case equalFold(name, "transfer-encoding"):
		if !equalFold(value, "chunked") || r.chunked {
			return errUnsupportedTE
		}
		r.chunked = true
	case equalFold(name, "connection"):
		h.drop = true
		r.noteConnection(h.value)
	case equalFold(name, "expect"):
		h.drop = true
		if !equalFold(value, "100-continue") {
			return errExpectation
		}
		r.expectContinue = true
	case equalFold(name, "cookie"):
		if !r.hasClientID {
			r.clientID, r.hasClientID = findCookie(value, h.value.start)
		}
	case equalFold(name, "x-slipway-stack"):
		r.stack, r.hasStack = h.value, h.value.end > h.value.start // empty means no override
	case equalFold(name, "x-forwarded-for"):
		h.drop = true
		r.xff = append(r.xff, h.value)
	case equalFold(name, "upgrade"):
		h.drop = true // written back only for an upgrade request
		r.upgrade = h.line
	case equalFold(name, "keep-alive"), equalFold(name, "proxy-connection"), equalFold(name, "te"),
		equalFold(name, "x-forwarded-host"), equalFold(name, "x-forwarded-proto"), equalFold(name, "proxy-authorization"):
		h.drop = true
	}
	return nil
}

// Errors with their own status codes.
var (
	errUnsupportedTE = errors.New("only Transfer-Encoding: chunked is supported")
	errExpectation   = errors.New("only Expect: 100-continue is supported")
)

func (r *request) noteConnection(v span) {
	forEachToken(r.buf, v, func(tok span) {
		t := r.bytes(tok)
		switch {
		case equalFold(t, "close"):
			r.connClose = true
		case equalFold(t, "keep-alive"):
			r.connKeepAlive = true
		case equalFold(t, "upgrade"):
			r.connUpg = true
		default:
			r.connTokens = append(r.connTokens, tok)
		}
	})
}

// dropNominated drops the headers that the Connection header names.
func (r *request) dropNominated() {
	for i := range r.headers {
		h := &r.headers[i]
		for _, tok := range r.connTokens {
			if bytes.EqualFold(r.bytes(h.name), r.bytes(tok)) {
				h.drop = true
			}
		}
	}
}

// forEachToken calls fn for each comma-separated, trimmed token of v.
func forEachToken(buf []byte, v span, fn func(span)) {
	i := v.start
	for i < v.end {
		j := i
		for j < v.end && buf[j] != ',' {
			j++
		}
		s, e := i, j
		for s < e && (buf[s] == ' ' || buf[s] == '\t') {
			s++
		}
		for e > s && (buf[e-1] == ' ' || buf[e-1] == '\t') {
			e--
		}
		if e > s {
			fn(span{s, e})
		}
		i = j + 1
	}
}

// findCookie finds the value of the slipway_client cookie in a Cookie
// header value that starts at offset base of the request buffer.
func findCookie(v []byte, base int32) (span, bool) {
	const name = "slipway_client="
	for i := 0; i < len(v); {
		for i < len(v) && (v[i] == ' ' || v[i] == ';') {
			i++
		}
		j := i
		for j < len(v) && v[j] != ';' {
			j++
		}
		pair := v[i:j]
		if len(pair) > len(name) && string(pair[:len(name)]) == name {
			s, e := i+len(name), j
			for e > s && v[e-1] == ' ' {
				e--
			}
			if e-s >= 2 && v[s] == '"' && v[e-1] == '"' {
				s, e = s+1, e-1
			}
			if e > s {
				return span{base + int32(s), base + int32(e)}, true
			}
		}
		i = j
	}
	return span{}, false
}

func parseContentLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// equalFold compares b with the lower-case ASCII string s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// tokenChars marks the bytes allowed in an HTTP token (RFC 9110 tchar).
var tokenChars = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, rune(c))
	}
	return t
}()

func isToken(b []byte) bool {
	for _, c := range b {
		if !tokenChars[c] {
			return false
		}
	}
	return len(b) > 0
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}
