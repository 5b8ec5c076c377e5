package itest

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// event is one line of `go test -json` output (see `go doc cmd/test2json`),
// plus the build events the go command interleaves with it.
type event struct {
	Action      string
	Package     string
	Test        string
	Elapsed     float64 // seconds, on pass and fail
	Output      string
	FailedBuild string // on a package fail caused by a build failure
}

// parser turns a test2json stream into a Result, writing one progress line
// per finished test. Only leaf tests are counted: a parent whose subtests
// ran is counted through them, unless it failed on its own. Lines that are
// not events are the command's own output: shown and kept as they are.
type parser struct {
	lines // Write and flush: the stream, split into lines for line
	out   *transcript
	res   Result

	events      int                 // test2json events seen: the stream is one
	testOutput  map[string][]string // output lines of tests still running
	pkgOutput   []string            // output lines outside any test
	hasChildren map[string]bool     // tests that have run subtests
	childFailed map[string]bool     // tests with a failed subtest
	pkgAction   string              // pass, fail or skip once the package finished
	buildFailed bool
}

func newParser(progress io.Writer) *parser { return parserTo(newTranscript(progress)) }

// parserTo is a parser that shows and keeps what it reads in out.
func parserTo(out *transcript) *parser {
	p := &parser{
		out:         out,
		testOutput:  map[string][]string{},
		hasChildren: map[string]bool{},
		childFailed: map[string]bool{},
	}
	p.fn = p.line
	return p
}

// line handles one line; a line that is not an event is the command's own.
func (p *parser) line(b []byte) {
	var e event
	if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &e) != nil || e.Action == "" {
		p.out.line(b)
		return
	}
	p.events++
	switch e.Action {
	case "output":
		p.out.keep(e.Output)
		if e.Test != "" {
			p.testOutput[e.Test] = append(p.testOutput[e.Test], e.Output)
		} else {
			p.pkgOutput = append(p.pkgOutput, e.Output)
		}
	case "build-output":
		p.out.keep(e.Output)
	case "build-fail":
		p.buildFailed = true
	case "run":
		for i := strings.LastIndexByte(e.Test, '/'); i > 0; i = strings.LastIndexByte(e.Test[:i], '/') {
			p.hasChildren[e.Test[:i]] = true
		}
	case "pass", "fail", "skip":
		if e.Test != "" {
			p.finishTest(e)
		} else {
			p.finishPackage(e)
		}
	}
}

func (p *parser) finishTest(e event) {
	lines := p.testOutput[e.Test]
	delete(p.testOutput, e.Test)
	failed := e.Action == "fail"
	if p.hasChildren[e.Test] && (!failed || p.childFailed[e.Test]) {
		return // counted through its subtests
	}
	elapsed := formatSeconds(e.Elapsed)
	switch e.Action {
	case "pass":
		p.res.Passed++
		p.out.printf("PASS %s (%s)\n", e.Test, elapsed)
	case "skip":
		p.res.Skipped++
		p.out.printf("SKIP %s (%s): %s\n", e.Test, elapsed, firstMessage(lines, "skipped"))
	case "fail":
		p.res.Failed++
		msg := firstMessage(lines, "failed without a message")
		p.res.Failures = append(p.res.Failures, e.Test+": "+msg)
		p.out.printf("FAIL %s (%s): %s\n", e.Test, elapsed, msg)
		for i := strings.LastIndexByte(e.Test, '/'); i > 0; i = strings.LastIndexByte(e.Test[:i], '/') {
			p.childFailed[e.Test[:i]] = true
		}
	}
}

// finishPackage records the end of the test binary. A package that failed
// with no failed test (TestMain exited, a panic outside a test, a build
// error) is recorded as a failure of its own.
func (p *parser) finishPackage(e event) {
	p.pkgAction = e.Action
	p.res.Duration = time.Duration(e.Elapsed * float64(time.Second))
	if e.FailedBuild != "" {
		p.buildFailed = true
	}
	if e.Action != "fail" || p.res.Failed > 0 || p.buildFailed {
		return
	}
	msg := firstMessage(p.pkgOutput, "test binary failed without a message")
	p.res.Failures = append(p.res.Failures, "package "+e.Package+": "+msg)
	p.out.printf("FAIL package %s: %s\n", e.Package, msg)
}

// result returns what was parsed so far.
func (p *parser) result() Result {
	r := p.res
	r.Failures = append([]string(nil), p.res.Failures...)
	r.Output = p.out.String()
	return r
}

// ranTests reports whether the test binary ran: it finished, or some test did.
func (p *parser) ranTests() bool {
	return (p.pkgAction != "" && !p.buildFailed) || p.res.Passed+p.res.Failed+p.res.Skipped > 0
}

// firstMessage returns the first line of output that a test wrote itself,
// trimmed, skipping the lines the testing package frames it with.
func firstMessage(lines []string, fallback string) string {
	for _, chunk := range lines {
		for line := range strings.SplitSeq(chunk, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || isFrameLine(line) {
				continue
			}
			return line
		}
	}
	return fallback
}

func isFrameLine(line string) bool {
	for _, prefix := range []string{"=== ", "--- ", "PASS", "FAIL", "ok ", "exit status "} {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}

func formatSeconds(s float64) string {
	return fmt.Sprintf("%.2fs", s)
}
