package itest

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Bounds on what a run prints and keeps: a line of the command's output is
// shown up to maxLine bytes, and the Result keeps the first and the last
// keepHalf bytes of everything the command printed.
const (
	maxLine  = 512
	keepHalf = 256 << 10
)

// transcript is everything a run printed. Every method locks, so that
// progress lines of several writers never interleave. Lines the
// command printed itself are shown as progress, one progress line each;
// test2json events are only kept (the parser shows one line per test).
type transcript struct {
	mu       sync.Mutex
	progress io.Writer
	head     []byte // the first keepHalf bytes
	tail     []byte // the last bytes, once head is full
	dropped  int    // bytes between head and tail
}

func newTranscript(progress io.Writer) *transcript {
	if progress == nil {
		progress = io.Discard
	}
	return &transcript{progress: progress}
}

// keep records output without showing it.
func (t *transcript) keep(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.add(s)
}

// line shows one line the command printed, cut at maxLine, and keeps it.
func (t *transcript) line(b []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.add(string(b))
	fmt.Fprintln(t.progress, shorten(strings.TrimRight(string(b), "\r\n"), maxLine))
}

// shorten cuts s to at most n bytes, on a character boundary, saying how
// much it left out.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes)", s[:cut], len(s)-cut)
}

// printf writes one progress line of Slipway's own.
func (t *transcript) printf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.progress, format, args...)
}

func (t *transcript) add(s string) {
	if room := keepHalf - len(t.head); room > 0 {
		n := min(room, len(s))
		t.head = append(t.head, s[:n]...)
		s = s[n:]
	}
	t.tail = append(t.tail, s...)
	if over := len(t.tail) - keepHalf; over > keepHalf { // trim in batches, not per write
		t.dropped += over
		t.tail = append(t.tail[:0], t.tail[over:]...)
	}
}

// String returns what was kept, saying how much was left out between the
// beginning and the end.
func (t *transcript) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	tail := t.tail
	dropped := t.dropped
	if over := len(tail) - keepHalf; over > 0 {
		dropped += over
		tail = tail[over:]
	}
	if dropped == 0 {
		return string(t.head) + string(tail)
	}
	return fmt.Sprintf("%s\n… %d bytes of output left out …\n%s", t.head, dropped, tail)
}

// lines splits a stream into lines for fn; a line may span writes. It
// never fails, so it can be a command's Stdout or Stderr.
type lines struct {
	fn      func([]byte)
	partial []byte
}

func (l *lines) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			l.partial = append(l.partial, b...)
			break
		}
		if len(l.partial) > 0 {
			l.fn(append(l.partial, b[:i+1]...))
			l.partial = l.partial[:0]
		} else {
			l.fn(b[:i+1])
		}
		b = b[i+1:]
	}
	return n, nil
}

// flush handles a last line that had no newline.
func (l *lines) flush() {
	if len(l.partial) > 0 {
		l.fn(l.partial)
		l.partial = nil
	}
}
