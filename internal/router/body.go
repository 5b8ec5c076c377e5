package router

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// sideError tells whether a copy failed writing (to dst) or reading (from
// src).
type sideError struct {
	write bool
	err   error
}

func (e sideError) Error() string { return e.err.Error() }
func (e sideError) Unwrap() error { return e.err }

// fill makes src hold buffered data. Before it blocks on a read it flushes
// dst, so streamed bodies reach the other side as they come while bodies
// that are already buffered go out in one write.
func fill(dst *bufio.Writer, src *bufio.Reader, touch func()) error {
	if src.Buffered() > 0 {
		return nil
	}
	if dst.Buffered() > 0 {
		if err := dst.Flush(); err != nil {
			return sideError{write: true, err: err}
		}
	}
	if touch != nil {
		touch()
	}
	if _, err := src.Peek(1); err != nil {
		return sideError{err: err}
	}
	return nil
}

// copyN copies exactly n bytes.
func copyN(dst *bufio.Writer, src *bufio.Reader, n int64, touch func()) error {
	for n > 0 {
		if err := fill(dst, src, touch); err != nil {
			if errors.Is(err, io.EOF) {
				return sideError{err: io.ErrUnexpectedEOF}
			}
			return err
		}
		k := src.Buffered()
		if int64(k) > n {
			k = int(n)
		}
		b, _ := src.Peek(k) // k bytes are buffered: Peek cannot fail
		if _, err := dst.Write(b); err != nil {
			return sideError{write: true, err: err}
		}
		_, _ = src.Discard(k) // likewise buffered
		n -= int64(k)
	}
	return nil
}

// copyUntilEOF copies until src ends (a body delimited by connection close).
func copyUntilEOF(dst *bufio.Writer, src *bufio.Reader) error {
	for {
		if err := fill(dst, src, nil); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := copyN(dst, src, int64(src.Buffered()), nil); err != nil {
			return err
		}
	}
}

// relayChunked copies a chunked body. With raw the chunk framing and
// trailers are kept; without it (for HTTP/1.0 clients) only the data is.
func relayChunked(dst *bufio.Writer, src *bufio.Reader, raw bool, touch func()) error {
	for {
		size, err := chunkLine(dst, src, raw, touch)
		if err != nil {
			return err
		}
		if size == 0 {
			return copyTrailers(dst, src, raw, touch)
		}
		if err := copyN(dst, src, size, touch); err != nil {
			return err
		}
		line, err := readChunkLine(dst, src, touch)
		if err != nil {
			return err
		}
		if len(line) != 0 {
			return sideError{err: errors.New("chunk data not followed by CRLF")}
		}
		if raw {
			if _, err := dst.WriteString("\r\n"); err != nil {
				return sideError{write: true, err: err}
			}
		}
	}
}

// chunkLine reads a chunk-size line, passes it on when raw, and returns the
// size.
func chunkLine(dst *bufio.Writer, src *bufio.Reader, raw bool, touch func()) (int64, error) {
	line, err := readChunkLine(dst, src, touch)
	if err != nil {
		return 0, err
	}
	var size int64
	digits := 0
	for _, c := range line {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			d = 255
		}
		if d == 255 {
			break
		}
		if digits++; digits > 15 {
			return 0, sideError{err: errors.New("chunk size too large")}
		}
		size = size<<4 | int64(d)
	}
	if digits == 0 || (digits < len(line) && line[digits] != ';' && line[digits] != ' ' && line[digits] != '\t') {
		return 0, sideError{err: fmt.Errorf("malformed chunk size line %q", truncate(line))}
	}
	if raw {
		if err := writeLine(dst, line); err != nil {
			return 0, err
		}
	}
	return size, nil
}

func copyTrailers(dst *bufio.Writer, src *bufio.Reader, raw bool, touch func()) error {
	for {
		line, err := readChunkLine(dst, src, touch)
		if err != nil {
			return err
		}
		if raw {
			if err := writeLine(dst, line); err != nil {
				return err
			}
		}
		if len(line) == 0 {
			return nil
		}
	}
}

func readChunkLine(dst *bufio.Writer, src *bufio.Reader, touch func()) ([]byte, error) {
	if err := fill(dst, src, touch); err != nil {
		return nil, err
	}
	line, err := readLine(src)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, sideError{err: err}
	}
	return line, nil
}

func writeLine(dst *bufio.Writer, line []byte) error {
	if _, err := dst.Write(line); err != nil {
		return sideError{write: true, err: err}
	}
	if _, err := dst.WriteString("\r\n"); err != nil {
		return sideError{write: true, err: err}
	}
	return nil
}
