// Package itest runs an app's integration tests against a deployed stack
// and summarises them. The tests are any command (a Suite: slipway.yaml's
// test.command, or the sample app's `go test -json` when there is no
// slipway.yaml), run without a shell with the stack's URL in its
// environment; its exit code decides. The counts and the failed tests'
// names come from the command's output when it is a test2json stream
// (one progress line per finished test), else from the JUnit XML report
// it writes (test.junit; each line it prints is shown), else there are
// none and the exit code alone is reported.
package itest

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/slipway/slipway/internal/naming"
)

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
	Target Target
	// CountsFrom is where the counts were read: "go test -json", or the
	// JUnit report's path relative to the suite's directory. "": the
	// command reported none, and its exit code alone decides.
	CountsFrom string
	Passed     int
	Failed     int
	Skipped    int
	// Failures is "TestName: first line the test wrote" per failed test,
	// or why the run failed with no failed test counted: "package P: ..."
	// when a Go test binary failed outside any test, no JUnit report, an
	// exit code the report does not explain.
	Failures []string
	Exit     int           // the command's exit code
	Duration time.Duration // how long Run took, compiling included
	Output   string        // what the command printed (stdout and stderr), its middle left out past 512 KiB
}

// OK reports whether the stack passed: the command exited 0 and nothing
// failed, and, when there are counts, at least one test passed.
func (r Result) OK() bool {
	if r.Exit != 0 || r.Failed > 0 || len(r.Failures) > 0 {
		return false
	}
	return r.CountsFrom == "" || r.Passed > 0
}

// Summary returns one line such as
// "integration: 3 passed, 0 failed (1.2s) against http://127.0.0.1:41234",
// or, with no counts, "integration: failed (exit 1) in 1.2s against ...".
func (r Result) Summary() string {
	var b strings.Builder
	took := r.Duration.Round(100 * time.Millisecond)
	switch {
	case r.CountsFrom == "" && r.OK():
		fmt.Fprintf(&b, "integration: passed (exit 0) in %s against %s", took, r.Target.BaseURL)
	case r.CountsFrom == "":
		fmt.Fprintf(&b, "integration: failed (exit %d) in %s against %s", r.Exit, took, r.Target.BaseURL)
	default:
		fmt.Fprintf(&b, "integration: %d passed, %d failed", r.Passed, r.Failed)
		if r.Skipped > 0 {
			fmt.Fprintf(&b, ", %d skipped", r.Skipped)
		}
		fmt.Fprintf(&b, " (%s) against %s", took, r.Target.BaseURL)
	}
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
	switch {
	case r.Failed == 0 && len(r.Failures) > 0:
		fmt.Fprintf(&b, "; %s", r.Failures[0])
	case r.CountsFrom != "" && !r.OK() && r.Failed == 0:
		b.WriteString("; no test passed")
	}
	return b.String()
}

// env returns the variables that tell the tests where the stack is and
// what to check: its URL as SLIPWAY_URL, BASE_URL and SLIPWAY_BASE_URL,
// then the SLIPWAY_* expectations. All are set, empty ones included, so
// that values in the caller's own environment cannot leak into the run.
func (t Target) env() []string {
	expectDatabase := ""
	if t.ExpectDatabase {
		expectDatabase = "1"
	}
	return []string{
		"SLIPWAY_URL=" + t.BaseURL,
		"BASE_URL=" + t.BaseURL,
		"SLIPWAY_BASE_URL=" + t.BaseURL,
		"SLIPWAY_HOST=" + t.Host,
		"SLIPWAY_EXPECT_COMMIT=" + t.ExpectCommit,
		"SLIPWAY_EXPECT_STACK=" + t.ExpectStack,
		"SLIPWAY_STACK_HEADER=" + t.StackHeader,
		"SLIPWAY_EXPECT_DATABASE=" + expectDatabase,
		"SLIPWAY_ENV=" + t.environment(),
	}
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
