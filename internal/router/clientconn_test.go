package router

import (
	"errors"
	"io"
	"net"
	"slices"
	"testing"
)

// chunkConn is a connection whose reads return at most size bytes of data,
// the last of them together with io.EOF.
type chunkConn struct {
	net.Conn
	data []byte
	size int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	n := copy(p, c.data[:min(len(c.data), c.size)])
	c.data = c.data[n:]
	if len(c.data) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// A client connection hands on every byte in order, cuts its reads after
// each blank line, and says at each cut whether a Content-Length line came
// since the blank line before, however the bytes arrive.
func TestClientConnCutsAfterBlankLinesAndSeesContentLength(t *testing.T) {
	tests := map[string]struct {
		stream string
		want   []bool // headCL at each blank line, in order
	}{
		"a head without Content-Length":   {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", []bool{false}},
		"a head with Content-Length":      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi", []bool{true}},
		"any case, bare LF":               {"POST / HTTP/1.1\ncontent-LENGTH:1\n\nx", []bool{true}},
		"a longer name is not it":         {"GET / HTTP/1.1\r\nX-Content-Length: 1\r\nContent-Lengthy: 1\r\n\r\n", []bool{false}},
		"a space before the colon is not": {"GET / HTTP/1.1\r\nContent-Length : 1\r\n\r\n", []bool{false}},
		"two pipelined heads": {
			"POST /a HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n", []bool{true, false}},
		"a body's blank lines end stretches of their own": {
			"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n\r\nContent-Length: 1\r\n\r\n0\r\n\r\n", []bool{false, false, true, false}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ends := blankLineEnds(tc.stream)
			for size := 1; size <= len(tc.stream); size++ {
				c := &clientConn{Conn: &chunkConn{data: []byte(tc.stream), size: size}, scan: headScan{pos: -1}}
				var got []byte
				var cuts []bool
				p := make([]byte, 4096)
				for range 10 * len(tc.stream) {
					n, err := c.Read(p)
					prev := len(got)
					got = append(got, p[:n]...)
					for _, e := range ends {
						if prev < e && e < len(got) {
							t.Fatalf("reads of %d bytes: a read ran past the blank line ending at byte %d", size, e)
						}
					}
					if n > 0 && slices.Contains(ends, len(got)) {
						cuts = append(cuts, c.scan.headCL.Load())
					}
					if errors.Is(err, io.EOF) {
						break
					}
				}
				if string(got) != tc.stream {
					t.Fatalf("reads of %d bytes handed on %q, want %q", size, got, tc.stream)
				}
				if !slices.Equal(cuts, tc.want) {
					t.Fatalf("reads of %d bytes: Content-Length at the blank lines %v, want %v", size, cuts, tc.want)
				}
			}
		})
	}
}

// blankLineEnds are the offsets just past each blank line of s ("\n\n" or
// "\n\r\n").
func blankLineEnds(s string) []int {
	var ends []int
	for i := range len(s) {
		if s[i] == '\n' && (i >= 1 && s[i-1] == '\n' || i >= 2 && s[i-2:i] == "\n\r") {
			ends = append(ends, i+1)
		}
	}
	return ends
}
