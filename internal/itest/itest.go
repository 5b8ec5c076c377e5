// Package itest runs the sample app's integration tests
// (./sample-app/integration) against a deployed environment and summarises
// them: it execs `go test -json`, follows the event stream, prints one line
// per finished test, and returns the counts and the failures.
package itest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/slipway/slipway/internal/naming"
)

// Package is the integration test package Run executes, relative to the
// module directory.
const Package = "./sample-app/integration"

// Target is the environment to test. Only BaseURL is required.
type Target struct {
	BaseURL      string // http(s) URL of the environment, e.g. http://pr-42.app.localhost:8080
	Host         string // Host header to send, when BaseURL is an address and routing is by host
	ExpectCommit string // commit the environment must serve: 7 to 40 hex characters (a short SHA will do)
	ExpectStack  string // stack the environment must report
	StackHeader  string // sent as X-Slipway-Stack, to reach a stack before it gets traffic
	// ExpectDatabase makes the database tests fail when the environment
	// reports no database (SLIPWAY_EXPECT_DATABASE=1).
	ExpectDatabase bool
	// Production: the environment runs on production's data; the tests
	// get SLIPWAY_ENV=production (else preview) and must only read.
	Production bool
}

// Result is the outcome of a run that got as far as running tests.
type Result struct {
	Target   Target
	Passed   int
	Failed   int
	Skipped  int
	Failures []string      // "TestName: first line the test wrote", or "package P: ..." when the binary failed outside any test
	Duration time.Duration // how long Run took, compiling included
	Output   string        // the tests' output, as `go test` prints it, then the go command's stderr
}

// OK reports whether the environment passed: at least one test passed and
// nothing failed.
func (r Result) OK() bool {
	return r.Passed > 0 && r.Failed == 0 && len(r.Failures) == 0
}

// Summary returns one line such as
// "integration: 3 passed, 0 failed (1.2s) against http://pr-42.app.localhost:8080".
func (r Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "integration: %d passed, %d failed", r.Passed, r.Failed)
	if r.Skipped > 0 {
		fmt.Fprintf(&b, ", %d skipped", r.Skipped)
	}
	fmt.Fprintf(&b, " (%s) against %s", r.Duration.Round(100*time.Millisecond), r.Target.BaseURL)
	var via []string
	if r.Target.Host != "" {
		via = append(via, "Host "+r.Target.Host)
	}
	if r.Target.StackHeader != "" {
		via = append(via, "X-Slipway-Stack "+r.Target.StackHeader)
	}
	if len(via) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(via, ", "))
	}
	if r.Failed == 0 && len(r.Failures) > 0 {
		fmt.Fprintf(&b, "; %s", r.Failures[0])
	}
	return b.String()
}

// env returns the SLIPWAY_* variables that tell the tests what to check.
// All are set, empty ones included, so that values in the caller's own
// environment cannot leak into the run.
func (t Target) env() []string {
	env := []string{
		"SLIPWAY_BASE_URL=" + t.BaseURL,
		"SLIPWAY_HOST=" + t.Host,
		"SLIPWAY_EXPECT_COMMIT=" + t.ExpectCommit,
		"SLIPWAY_EXPECT_STACK=" + t.ExpectStack,
		"SLIPWAY_STACK_HEADER=" + t.StackHeader,
		"SLIPWAY_ENV=" + t.environment(),
	}
	if t.ExpectDatabase {
		env = append(env, "SLIPWAY_EXPECT_DATABASE=1")
	}
	return env
}

// environment is SLIPWAY_ENV: production or preview.
func (t Target) environment() string {
	if t.Production {
		return "production"
	}
	return "preview"
}

// Validate checks that BaseURL is an http or https URL with a host.
func (t Target) Validate() error {
	const want = "pass the environment's URL, such as http://pr-42.app.localhost:8080"
	if t.BaseURL == "" {
		return fmt.Errorf("integration target: no base URL: %s", want)
	}
	u, err := url.Parse(t.BaseURL)
	if err != nil {
		return fmt.Errorf("integration target: base URL %q: %w: %s", t.BaseURL, err, want)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("integration target: base URL %q is not http or https: %s", t.BaseURL, want)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("integration target: base URL %q has no host: %s", t.BaseURL, want)
	}
	if t.ExpectCommit != "" {
		if _, err := naming.ShortSHA(t.ExpectCommit); err != nil {
			return fmt.Errorf("integration target: -commit: %w (the 7 characters `status` shows will do)", err)
		}
	}
	return nil
}

// Run executes the integration tests in moduleDir (the Slipway checkout)
// against t and writes one line per finished test to progress (nil for
// none). Failing tests are not an error: they are in the Result, whose OK
// is then false. Run returns an error only when the tests could not run: a
// bad target or module directory, no go command, a build failure, or ctx
// ending first.
func Run(ctx context.Context, moduleDir string, t Target, progress io.Writer) (Result, error) {
	start := time.Now()
	if err := t.Validate(); err != nil {
		return Result{Target: t}, err
	}
	if fi, err := os.Stat(filepath.Join(moduleDir, filepath.FromSlash(Package))); err != nil || !fi.IsDir() {
		return Result{Target: t}, fmt.Errorf("run integration tests: %q has no %s: pass the Slipway module directory", moduleDir, Package)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return Result{Target: t}, fmt.Errorf("run integration tests: find the go command: %w", err)
	}
	p := newParser(progress)
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, goBin, "test", "-count=1", "-json", Package)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), t.env()...)
	cmd.Stdout, cmd.Stderr = p, &stderr
	// On cancel, interrupt go test and the test binary; if go test has not
	// exited after WaitDelay, kill it and stop reading.
	ownProcessGroup(cmd)
	cmd.Cancel = func() error { return interrupt(cmd) }
	cmd.WaitDelay = 5 * time.Second
	waitErr := cmd.Run()
	p.flush()

	res := p.result()
	res.Target, res.Duration = t, time.Since(start)
	if stderr.Len() > 0 {
		res.Output += stderr.String()
	}
	return res, runError(ctx, p, waitErr, res.Output)
}

// runError decides whether a finished `go test` ran the tests at all.
func runError(ctx context.Context, p *parser, waitErr error, output string) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("run integration tests: %w", context.Cause(ctx))
	case p.buildFailed:
		return fmt.Errorf("run integration tests: build %s failed:\n%s", Package, strings.TrimSpace(output))
	case !p.ranTests():
		var exit *exec.ExitError
		if waitErr != nil && !errors.As(waitErr, &exit) {
			return fmt.Errorf("run integration tests: %w", waitErr)
		}
		status := "go test exited 0"
		if waitErr != nil {
			status = "go test: " + waitErr.Error()
		}
		return fmt.Errorf("run integration tests: no test ran (%s):\n%s", status, strings.TrimSpace(output))
	}
	return nil
}
