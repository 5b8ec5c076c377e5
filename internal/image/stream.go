package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// message is one JSON object of the daemon's build or push stream.
type message struct {
	Stream      string          `json:"stream"`
	Status      string          `json:"status"`
	ID          string          `json:"id"`
	Error       string          `json:"error"`
	ErrorDetail *errorDetail    `json:"errorDetail"`
	Aux         json.RawMessage `json:"aux"`
}

type errorDetail struct {
	Message string `json:"message"`
}

// failure is the daemon's error message in m, or "" when m reports none.
func (m message) failure() string {
	if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
		return m.ErrorDetail.Message
	}
	return m.Error
}

// StreamError is an error the daemon reported inside a build or push stream,
// after the HTTP request itself had succeeded.
type StreamError struct {
	Op      string // what failed, e.g. "build image"
	Message string // the daemon's words
}

func (e *StreamError) Error() string { return e.Op + ": " + e.Message }

// decodeStream calls fn for each message read from r until r ends, fn fails,
// or a message carries an error, which becomes a *StreamError for op.
func decodeStream(r io.Reader, op string, fn func(message) error) error {
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: read daemon stream: %w", op, err)
		}
		if msg := m.failure(); msg != "" {
			return &StreamError{Op: op, Message: strings.TrimSpace(msg)}
		}
		if err := fn(m); err != nil {
			return err
		}
	}
}

// lineWriter turns the builder's stream fragments, which split and join
// lines freely, into whole non-blank lines.
type lineWriter struct {
	w       io.Writer
	partial string
}

// write adds s and prints each line it completes.
func (l *lineWriter) write(s string) error {
	l.partial += s
	for {
		i := strings.IndexByte(l.partial, '\n')
		if i < 0 {
			return nil
		}
		line := l.partial[:i]
		l.partial = l.partial[i+1:]
		if err := l.line(line); err != nil {
			return err
		}
	}
}

// line prints the pending fragment, if any, then line.
func (l *lineWriter) line(line string) error {
	if err := l.flush(); err != nil {
		return err
	}
	return l.print(line)
}

// flush prints the pending fragment, if any.
func (l *lineWriter) flush() error {
	pending := l.partial
	l.partial = ""
	return l.print(pending)
}

func (l *lineWriter) print(line string) error {
	line = strings.TrimRight(line, " \t\r")
	if line == "" {
		return nil
	}
	if _, err := fmt.Fprintln(l.w, line); err != nil {
		return fmt.Errorf("write progress: %w", err)
	}
	return nil
}

// buildProgress renders a build stream: the builder's text line by line,
// and status messages (rare in builds FROM scratch) one line each.
type buildProgress struct{ lines lineWriter }

func (p *buildProgress) show(m message) error {
	if m.Stream != "" {
		return p.lines.write(m.Stream)
	}
	if m.Status != "" {
		return p.lines.line(withID(m))
	}
	return nil
}

// pushProgress renders a push stream with one line per layer and status:
// "Pushing" is printed once, not once per chunk sent.
type pushProgress struct {
	w    io.Writer
	last map[string]string
}

func newPushProgress(w io.Writer) *pushProgress {
	return &pushProgress{w: w, last: map[string]string{}}
}

func (p *pushProgress) show(m message) error {
	if m.Status == "" {
		return nil
	}
	if m.ID != "" {
		if p.last[m.ID] == m.Status {
			return nil
		}
		p.last[m.ID] = m.Status
	}
	if _, err := fmt.Fprintln(p.w, withID(m)); err != nil {
		return fmt.Errorf("write progress: %w", err)
	}
	return nil
}

func withID(m message) string {
	if m.ID == "" {
		return m.Status
	}
	return m.ID + ": " + m.Status
}
