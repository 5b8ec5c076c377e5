package itest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slipway/slipway/internal/manifest"
)

// Package is the sample app's integration test package, relative to the
// Slipway module directory.
const Package = "./sample-app/integration"

// goStream is Result.CountsFrom for counts read from `go test -json`.
const goStream = "go test -json"

// Suite is an app's integration tests: a command run without a shell in
// Dir against a deployed stack. Its exit code decides; its counts and
// failed tests' names come from its output when that is a test2json
// stream (go test -json), else from the JUnit report it writes, else there
// are none.
type Suite struct {
	Dir     string   // where the command runs: slipway.yaml's directory
	Command []string // the program and its arguments; nil: the app has no tests
	// JUnit is the JUnit XML report the command writes, or a directory of
	// them, relative to Dir or absolute; "" for none. A report file left
	// from an earlier run is removed before the command starts; in a
	// directory only the files written during the run are read.
	JUnit   string
	Timeout time.Duration // bound on the command; 0: manifest.DefaultTestTimeout

	need string // what Dir must hold: the sample app's package
}

// SampleSuite is the tests of Slipway's sample app: `go test -json` of
// Package in moduleDir, the Slipway checkout.
func SampleSuite(moduleDir string) Suite {
	return Suite{Dir: moduleDir, Command: []string{"go", "test", "-count=1", "-json", Package},
		Timeout: manifest.DefaultTestTimeout, need: Package}
}

// SuiteFor is the tests m describes. Without a slipway.yaml they are the
// sample app's, from moduleDir; a slipway.yaml without test.command
// describes an app with no tests (a Suite with no Command).
func SuiteFor(m *manifest.Manifest, moduleDir string) Suite {
	if m == nil || (!m.Found() && m.Test.Command == nil) {
		s := SampleSuite(moduleDir)
		if m != nil && m.Test.Timeout > 0 {
			s.Timeout = m.Test.Timeout
		}
		return s
	}
	return Suite{Dir: m.Dir, Command: slices.Clone(m.Test.Command), JUnit: m.Test.JUnit, Timeout: m.Test.Timeout}
}

// String is the command as a user would type it.
func (s Suite) String() string {
	words := make([]string, len(s.Command))
	for i, w := range s.Command {
		words[i] = w
		if w == "" || strings.ContainsAny(w, " \t\n\"'\\$`*?;&|<>()") {
			words[i] = strconv.Quote(w)
		}
	}
	return strings.Join(words, " ")
}

func (s Suite) timeout() time.Duration {
	if s.Timeout <= 0 {
		return manifest.DefaultTestTimeout
	}
	return s.Timeout
}

// junit is the report's path, absolute when Dir is.
func (s Suite) junit() string {
	if s.JUnit == "" || filepath.IsAbs(s.JUnit) {
		return s.JUnit
	}
	return filepath.Join(s.Dir, s.JUnit)
}

// show is path as messages name it: relative to Dir when inside it.
func (s Suite) show(path string) string {
	if r, err := filepath.Rel(s.Dir, path); err == nil && filepath.IsLocal(r) {
		return filepath.ToSlash(r)
	}
	return path
}

// program checks that the command can start: it has a program, Dir is a
// directory, and the program exists (on PATH, or relative to Dir when it
// names a path). It returns the program's path.
func (s Suite) program() (string, error) {
	if len(s.Command) == 0 {
		return "", errors.New("run integration tests: there is no test command: set test.command in slipway.yaml, such as [\"npm\", \"test\"]")
	}
	if fi, err := os.Stat(s.Dir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("run integration tests: the test directory %q is not a directory: run from the app's checkout (slipway.yaml's directory)", s.Dir)
	}
	if s.need != "" {
		if fi, err := os.Stat(filepath.Join(s.Dir, filepath.FromSlash(s.need))); err != nil || !fi.IsDir() {
			return "", fmt.Errorf("run integration tests: %q has no %s: run from the Slipway checkout, or describe your app's tests in slipway.yaml (test.command)", s.Dir, s.need)
		}
	}
	name := s.Command[0]
	if !strings.ContainsRune(name, '/') && !strings.ContainsRune(name, filepath.Separator) {
		path, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("run integration tests: %s: %q is not installed or not on PATH (%w): install it, or change test.command in slipway.yaml", s, name, err)
		}
		return path, nil
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(s.Dir, path)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("run integration tests: %s: %s does not exist: test.command's program is relative to slipway.yaml's directory %s", s, path, s.Dir)
	}
	return path, nil
}

// errTimeout is the cause of a run that outlived the suite's Timeout.
var errTimeout = errors.New("test timeout")

// Run runs the suite against t and writes progress to progress (nil for
// none): one line per finished test for a test2json stream, else each
// line the command prints. Failing tests are not an error: they are in the
// Result, whose OK is then false. Run returns an error only when the tests
// could not run or be read: a bad target, no such directory or program, a
// build failure, the Timeout or ctx ending first, or a JUnit report that
// is missing after a passing run or cannot be parsed.
func (s Suite) Run(ctx context.Context, t Target, progress io.Writer) (Result, error) {
	start := time.Now()
	res := Result{Target: t}
	if err := t.Validate(); err != nil {
		return res, err
	}
	path, err := s.program()
	if err != nil {
		return res, err
	}
	var rep *report
	if s.JUnit != "" {
		r, err := prepare(s.junit())
		if err != nil {
			return res, fmt.Errorf("run integration tests: %w", err)
		}
		rep = &r
	}
	out := newTranscript(progress)
	out.printf("integration: running %s in %s against %s\n", s, s.Dir, t.BaseURL)
	runCtx, cancel := context.WithTimeoutCause(ctx, s.timeout(), errTimeout)
	defer cancel()
	p := parserTo(out)
	waitErr := s.exec(runCtx, path, t, p)

	res = p.result()
	res.Target, res.Duration = t, time.Since(start)
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("run integration tests: %w", context.Cause(ctx))
	case errors.Is(context.Cause(runCtx), errTimeout):
		return res, fmt.Errorf("run integration tests: %s did not finish within %s: find the test that hangs, or raise test.timeout in slipway.yaml", s, s.timeout())
	case errors.As(waitErr, &exit):
		res.Exit = exit.ExitCode()
	case errors.Is(waitErr, exec.ErrWaitDelay):
		out.printf("integration: warning: %s exited, but a process it started kept its output open: stopped reading it\n", s)
	case waitErr != nil:
		return res, fmt.Errorf("run integration tests: %s: %w", s, waitErr)
	}
	return res, s.count(&res, p, rep)
}

// exec runs the command to its end, ctx's end interrupting it, with the
// target's variables in its environment. Its stdout and stderr are one
// pipe, read by p, so that their lines keep the order they were printed in.
func (s Suite) exec(ctx context.Context, path string, t Target, p *parser) error {
	cmd := exec.CommandContext(ctx, path, s.Command[1:]...)
	cmd.Args[0] = s.Command[0]
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), t.env()...)
	cmd.Stdout, cmd.Stderr = p, p
	// On cancel, interrupt the command and every process it started; if
	// it has not exited after WaitDelay, kill it and stop reading.
	ownProcessGroup(cmd)
	cmd.Cancel = func() error { return interrupt(cmd) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil && cmd.Process != nil {
		killGroup(cmd) // what ignored the interrupt
	}
	p.flush()
	return err
}

// count reads the counts of a finished run into res: from the test2json
// stream the command printed, else from its JUnit report. A run that
// failed with no failed test counted says so among the Failures.
func (s Suite) count(res *Result, p *parser, rep *report) error {
	switch {
	case p.events > 0:
		res.CountsFrom = goStream
		if err := goError(p, s, res); err != nil {
			return err
		}
	case rep != nil:
		err := rep.read(res)
		switch {
		case errors.Is(err, errNoReport) && res.Exit == 0:
			return fmt.Errorf("run integration tests: %s exited 0 but wrote no JUnit report at %s (test.junit): make it write its report there (pytest --junitxml=PATH, jest-junit's JEST_JUNIT_OUTPUT_FILE, gotestsum --junitfile PATH), or remove test.junit", s, s.show(rep.path))
		case errors.Is(err, errNoReport):
			res.Failures = append(res.Failures, fmt.Sprintf("no JUnit report at %s: the test command exited %d without writing one", s.show(rep.path), res.Exit))
			return nil
		case err != nil:
			return fmt.Errorf("run integration tests: %w", err)
		}
		res.CountsFrom = s.show(rep.path)
	}
	if res.CountsFrom != "" && res.Exit != 0 && res.Failed == 0 && len(res.Failures) == 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("the test command exited %d, but %s names no failed test", res.Exit, res.CountsFrom))
	}
	return nil
}

// goError decides whether a finished `go test -json` ran the tests at all.
func goError(p *parser, s Suite, res *Result) error {
	switch {
	case p.buildFailed:
		return fmt.Errorf("run integration tests: %s: build failed:\n%s", s, strings.TrimSpace(res.Output))
	case !p.ranTests():
		return fmt.Errorf("run integration tests: %s: no test ran (exit %d):\n%s", s, res.Exit, strings.TrimSpace(res.Output))
	}
	return nil
}
