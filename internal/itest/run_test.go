package itest

import (
	"bytes"
	"context"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/testenv"
	"github.com/slipway/slipway/sample-app/app"
)

// moduleDir is the Slipway checkout, two levels above this package.
var moduleDir = filepath.Join("..", "..")

const sampleCommit = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"

// startSampleApp serves the real sample app on a loopback httptest server.
func startSampleApp(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(app.New(app.Config{Commit: sampleCommit, Stack: "pr-42-blue", Version: "v1.0.0"}, nil))
	t.Cleanup(srv.Close)
	return srv.URL
}

func needGo(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("compiles and runs the integration tests; skipped with -short")
	}
	testenv.Binary(t, "go", "install Go from https://go.dev/dl/")
}

func TestRunPassesAgainstTheRightBuild(t *testing.T) {
	needGo(t)
	target := Target{BaseURL: startSampleApp(t), ExpectCommit: sampleCommit, ExpectStack: "pr-42-blue",
		Host: "pr-42.app.localhost", StackHeader: "pr-42-blue"}
	var progress bytes.Buffer
	res, err := SampleSuite(moduleDir).Run(t.Context(), target, &progress)
	if err != nil {
		t.Fatalf("Run() error = %v\n%s", err, res.Output)
	}
	// The sample app here has no database, so its two database tests skip
	// and say so; the other three pass.
	if !res.OK() || res.Passed != 3 || res.Failed != 0 {
		t.Fatalf("Run() = %d passed, %d failed, failures %q; want 3 passed\n%s", res.Passed, res.Failed, res.Failures, res.Output)
	}
	if lines := strings.Count(progress.String(), "\n"); lines != 6 {
		t.Errorf("progress has %d lines, want the command's and one per test:\n%s", lines, progress.String())
	}
	want := "integration: 3 passed, 0 failed, 2 skipped ("
	if s := res.Summary(); !strings.HasPrefix(s, want) || !strings.Contains(s, "against "+target.BaseURL) {
		t.Errorf("Summary() = %q, want %q... against %s", s, want, target.BaseURL)
	}
}

// What a user does after `demo`: test:integration with the URL it printed
// (a *.localhost name, which DNS here may not resolve) and the 7-character
// commit that `status` shows.
func TestRunAcceptsTheDemoURLAndTheShortCommitStatusShows(t *testing.T) {
	needGo(t)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(startSampleApp(t), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	target := Target{BaseURL: "http://pr-42.app.localhost:" + port, ExpectCommit: sampleCommit[:7]}
	res, err := SampleSuite(moduleDir).Run(t.Context(), target, nil)
	if err != nil || !res.OK() || res.Passed != 3 {
		t.Fatalf("Run() = %s, %v; want 3 passed\n%s", res.Summary(), err, res.Output)
	}
}

func TestABadCommitIsRefusedBeforeRunning(t *testing.T) {
	for _, c := range []string{"c0ffee", "not-a-sha", "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c"} {
		_, err := SampleSuite(moduleDir).Run(t.Context(), Target{BaseURL: "http://127.0.0.1:1", ExpectCommit: c}, nil)
		if err == nil || !strings.Contains(err.Error(), "-commit") {
			t.Errorf("ExpectCommit %q: error %v, want one naming -commit", c, err)
		}
	}
}

func TestRunReportsAWrongCommitAsFailedTests(t *testing.T) {
	needGo(t)
	target := Target{BaseURL: startSampleApp(t), ExpectCommit: "0000000deadbeef"}
	// A value in the caller's environment must not reach the tests.
	t.Setenv("SLIPWAY_EXPECT_STACK", "some-other-stack")
	var progress bytes.Buffer
	res, err := SampleSuite(moduleDir).Run(t.Context(), target, &progress)
	if err != nil {
		t.Fatalf("Run() error = %v, want failing tests reported in the Result\n%s", err, res.Output)
	}
	if res.OK() || res.Failed == 0 {
		t.Fatalf("Run() OK with the wrong commit expected: %s\n%s", res.Summary(), res.Output)
	}
	for _, f := range res.Failures {
		if !strings.Contains(f, `want "0000000deadbeef"`) || !strings.Contains(f, sampleCommit) ||
			!strings.Contains(f, "SLIPWAY_EXPECT_COMMIT") {
			t.Errorf("failure %q does not name the commit mismatch", f)
		}
	}
	if !strings.Contains(progress.String(), "FAIL TestVersionReportsTheExpectedBuild") {
		t.Errorf("progress does not show the failed test:\n%s", progress.String())
	}
}

func TestRunStopsWhenTheContextEnds(t *testing.T) {
	needGo(t)
	// A server that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		var conns []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil { // the listener closed at cleanup
				for _, c := range conns {
					_ = c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err = SampleSuite(moduleDir).Run(ctx, Target{BaseURL: "http://" + ln.Addr().String()}, nil)
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("Run() error = %v, want the context's deadline", err)
	}
	// Well before WaitDelay (5s) runs out: the interrupt stopped the tests.
	if took := time.Since(start); took > 7*time.Second {
		t.Errorf("Run() took %s with a 3s deadline", took)
	}
}

func TestRunRefusesWhatItCannotRun(t *testing.T) {
	tests := map[string]struct {
		moduleDir string
		target    Target
		wantErr   string
	}{
		"no base URL":            {moduleDir, Target{}, "no base URL: pass the environment's URL"},
		"a host without scheme":  {moduleDir, Target{BaseURL: "pr-42.app.localhost:8080"}, "is not http or https"},
		"an ftp URL":             {moduleDir, Target{BaseURL: "ftp://pr-42.app.localhost"}, "is not http or https"},
		"a URL without host":     {moduleDir, Target{BaseURL: "http:///healthz"}, "has no host"},
		"a port without host":    {moduleDir, Target{BaseURL: "http://:8080"}, "has no host"},
		"a directory w/o module": {t.TempDir(), Target{BaseURL: "http://127.0.0.1:8080"}, "run from the Slipway checkout, or describe your app's tests in slipway.yaml"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := SampleSuite(tc.moduleDir).Run(t.Context(), tc.target, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Run() error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestRunReportsABuildFailureAsAnError(t *testing.T) {
	needGo(t)
	// A module whose integration package does not compile.
	dir := t.TempDir()
	pkg := filepath.Join(dir, "sample-app", "integration")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		filepath.Join(dir, "go.mod"):         "module example.com/broken\n\ngo 1.26\n",
		filepath.Join(pkg, "broken_test.go"): "package integration\n\nfunc TestX(t *testing.T) { undefined() }\n",
	}
	for path, body := range files {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := SampleSuite(dir).Run(t.Context(), Target{BaseURL: "http://127.0.0.1:8080"}, nil)
	if err == nil || !strings.Contains(err.Error(), "go test -count=1 -json ./sample-app/integration: build failed") ||
		!strings.Contains(err.Error(), "undefined") {
		t.Errorf("Run() error = %v, want a build failure quoting the compiler", err)
	}
}
