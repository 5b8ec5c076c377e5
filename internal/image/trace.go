package image

import (
	"fmt"
	"io"
	"strings"

	controlapi "github.com/moby/buildkit/api/services/control"
)

// tailLines is how many of a step's last output lines are kept, to be
// shown if it fails.
const tailLines = 20

// trace renders BuildKit's progress (the vertices of the build graph, one
// per Dockerfile step and internal operation) as lines that are never
// redrawn: "#N <step>" when a step starts, "#N DONE 1.2s" when it ends,
// "#N <step> CACHED" for a step taken from the cache, and "#N ERROR: …"
// after the last lines of a failed step's output. A step's output is
// otherwise not printed.
type trace struct {
	lines    lineWriter
	steps    map[string]*step // by vertex digest
	numbered int
}

type step struct {
	n          int
	name       string
	started    bool // its first line is printed
	done       bool // its last line is printed
	tail       []string
	partial    string
	errMessage string
}

func newTrace(w io.Writer) *trace {
	return &trace{lines: lineWriter{w: w}, steps: map[string]*step{}}
}

func (t *trace) show(s *controlapi.StatusResponse) error {
	for _, l := range s.Logs {
		if st := t.steps[l.Vertex]; st != nil {
			st.log(l.Msg)
		} else {
			t.step(l.Vertex, "").log(l.Msg)
		}
	}
	for _, v := range s.Vertexes {
		if err := t.vertex(v); err != nil {
			return err
		}
	}
	for _, w := range s.Warnings {
		if err := t.lines.line("warning: " + strings.TrimSpace(string(w.Short))); err != nil {
			return err
		}
	}
	return nil
}

func (t *trace) step(digest, name string) *step {
	st := t.steps[digest]
	if st == nil {
		st = &step{}
		t.steps[digest] = st
	}
	if name != "" {
		st.name = name
	}
	return st
}

func (t *trace) vertex(v *controlapi.Vertex) error {
	st := t.step(v.Digest, v.Name)
	if st.done || (v.Started == nil && !v.Cached && v.Error == "") {
		return nil
	}
	if st.n == 0 {
		t.numbered++
		st.n = t.numbered
	}
	head := fmt.Sprintf("#%d %s", st.n, st.name)
	var end string
	switch {
	case v.Error != "" && strings.Contains(v.Error, "context canceled"):
		end = "CANCELED"
	case v.Error != "":
		st.errMessage = v.Error
		return t.fail(st, head)
	case v.Cached:
		end = "CACHED"
	case v.Completed != nil:
		end = fmt.Sprintf("DONE %.1fs", v.Completed.AsTime().Sub(v.Started.AsTime()).Seconds())
	default:
		st.started = true
		return t.lines.line(head)
	}
	st.done = true
	if st.started {
		return t.lines.line(fmt.Sprintf("#%d %s", st.n, end))
	}
	return t.lines.line(head + " " + end)
}

// fail prints a failed step's last output lines and its error.
func (t *trace) fail(st *step, head string) error {
	st.done = true
	if !st.started {
		if err := t.lines.line(head); err != nil {
			return err
		}
	}
	if st.partial != "" {
		st.tail = append(st.tail, st.partial)
	}
	for _, l := range st.tail {
		if err := t.lines.line(fmt.Sprintf("#%d > %s", st.n, l)); err != nil {
			return err
		}
	}
	return t.lines.line(fmt.Sprintf("#%d ERROR: %s", st.n, st.errMessage))
}

// failed prints the output of a failed step the trace has not shown yet
// (the daemon may end the stream with the error before the step's last
// status): the build's error alone rarely says why a RUN failed.
func (t *trace) failed() error {
	for _, st := range t.steps {
		if st.started && !st.done && len(st.tail) > 0 {
			st.errMessage = "did not finish"
			return t.fail(st, "")
		}
	}
	return nil
}

// log keeps the last tailLines lines of msg's output.
func (st *step) log(msg []byte) {
	text := st.partial + string(msg)
	parts := strings.Split(text, "\n")
	st.partial = parts[len(parts)-1]
	for _, l := range parts[:len(parts)-1] {
		if l = strings.TrimRight(l, " \t\r"); l != "" {
			st.tail = append(st.tail, l)
		}
	}
	if over := len(st.tail) - tailLines; over > 0 {
		st.tail = st.tail[over:]
	}
}
