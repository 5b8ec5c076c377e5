package itest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/testenv"
)

func needPython(t *testing.T) {
	t.Helper()
	testenv.Binary(t, "python3", "install Python 3 (python3 on PATH)")
}

// appDir is a new directory holding copies of the named testdata files,
// as an app's checkout holds its tests.
func appDir(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// writeFile writes a file under dir, its directories included, and
// returns its path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var tookRe = regexp.MustCompile(`\(\d[0-9.hmsµn]*\)|in \d[0-9.hmsµn]* against`)

// stable is a summary without its duration (T) and with URL for url.
func stable(summary, url string) string {
	summary = tookRe.ReplaceAllStringFunc(summary, func(m string) string {
		if strings.HasPrefix(m, "in ") {
			return "in T against"
		}
		return "(T)"
	})
	return strings.ReplaceAll(summary, url, "URL")
}

const wrongCommit = "0000000deadbeef"

// What a team sees when its own tests, in any language, test a stack: the
// summary, the failed tests' names, or an error saying what to do. Each
// row runs a real process against the real sample app on loopback.
func TestSuiteRunsTheTeamsOwnCommand(t *testing.T) {
	needPython(t)
	url := startSampleApp(t)
	// The caller's own BASE_URL must not reach the tests: the stack's does.
	t.Setenv("BASE_URL", "http://elsewhere.invalid")
	py := []string{"python3", "check_app.py", "reports/junit.xml"}
	tests := []struct {
		name        string
		suite       Suite
		files       []string                       // testdata files copied into the app's directory
		before      func(t *testing.T, dir string) // what the directory holds before the run
		commit      string
		node        bool
		wantOK      bool
		wantSummary string
		wantFail    []string
		wantErr     string
		wantShown   string // a line of progress
	}{
		{
			name:  "a Python suite with a JUnit report passes",
			suite: Suite{Command: py, JUnit: "reports/junit.xml"}, files: []string{"python/check_app.py"},
			wantOK:      true,
			wantSummary: "integration: 3 passed, 0 failed, 1 skipped (T) against URL",
			wantShown:   "ok   test_base_url_is_the_stack",
		},
		{
			name:  "a failed Python test is named from the JUnit report",
			suite: Suite{Command: py, JUnit: "reports/junit.xml"}, files: []string{"python/check_app.py"}, commit: wrongCommit,
			wantSummary: "integration: 2 passed, 1 failed, 1 skipped (T) against URL",
			wantFail:    []string{"check_app.test_version_reports_the_expected_commit: GET /version reports commit '" + sampleCommit + "', want '" + wrongCommit + "'"},
			wantShown:   "4 tests, 1 failed",
		},
		{
			name:  "without a report the exit code alone passes",
			suite: Suite{Command: py[:2]}, files: []string{"python/check_app.py"},
			wantOK:      true,
			wantSummary: "integration: passed (exit 0) in T against URL",
		},
		{
			name:  "without a report the exit code alone fails",
			suite: Suite{Command: py[:2]}, files: []string{"python/check_app.py"}, commit: wrongCommit,
			wantSummary: "integration: failed (exit 1) in T against URL",
			wantShown:   "FAIL test_version_reports_the_expected_commit: GET /version reports commit",
		},
		{
			name:  "a report left by an earlier run is not this run's",
			suite: Suite{Command: []string{"python3", "-c", "import sys; sys.exit(3)"}, JUnit: "reports/junit.xml"},
			before: func(t *testing.T, dir string) {
				writeFile(t, dir, "reports/junit.xml", readTestdata(t, "junit/gotestsum.xml"))
			},
			wantSummary: "integration: failed (exit 3) in T against URL; no JUnit report at reports/junit.xml: the test command exited 3 without writing one",
		},
		{
			name:  "a command that passes without writing its report is an error",
			suite: Suite{Command: []string{"python3", "-c", "pass"}, JUnit: "reports/junit.xml"},
			before: func(t *testing.T, dir string) {
				writeFile(t, dir, "reports/junit.xml", readTestdata(t, "junit/gotestsum.xml"))
			},
			wantErr: `python3 -c pass exited 0 but wrote no JUnit report at reports/junit.xml (test.junit): make it write its report there (pytest --junitxml=PATH`,
		},
		{
			name: "a directory of Maven reports is read without the old ones",
			suite: Suite{Command: []string{"cp", "surefire.xml", "target/surefire-reports/TEST-com.example.shop.ShopIT.xml"},
				JUnit: "target/surefire-reports"}, files: []string{"junit/surefire.xml"},
			before: func(t *testing.T, dir string) {
				old := writeFile(t, dir, "target/surefire-reports/TEST-com.example.shop.OldIT.xml", readTestdata(t, "junit/pytest.xml"))
				hourAgo := time.Now().Add(-time.Hour)
				if err := os.Chtimes(old, hourAgo, hourAgo); err != nil {
					t.Fatal(err)
				}
			},
			wantSummary: "integration: 1 passed, 2 failed, 1 skipped (T) against URL",
			wantFail:    []string{"com.example.shop.ShopIT.cartKeepsItems: expected: <200> but was: <500>", "com.example.shop.ShopIT.checkout: Connection refused"},
		},
		{
			name: "a Node suite's failed test is named from its report", node: true, commit: wrongCommit,
			suite: Suite{Command: []string{"node", "check_app.mjs", "reports/junit.xml"}, JUnit: "reports/junit.xml"}, files: []string{"node/check_app.mjs"},
			wantSummary: "integration: 1 passed, 1 failed (T) against URL",
			wantFail:    []string{"app GET /version reports the expected commit: Error: GET /version reports commit " + sampleCommit + ", want " + wrongCommit},
			wantShown:   "ok   GET /healthz answers 200",
		},
		{
			name:    "a report that is not JUnit XML is an error",
			suite:   Suite{Command: []string{"python3", "-c", "open('junit.xml', 'w').write('<html>coverage</html>')"}, JUnit: "junit.xml"},
			wantErr: "its root element is <html>, not <testsuites> or <testsuite>: make test.junit name the JUnit XML file the test command writes",
		},
		{
			name:    "a command that outlives test.timeout is stopped",
			suite:   Suite{Command: []string{"python3", "-c", "import time; time.sleep(30)"}, Timeout: 300 * time.Millisecond},
			wantErr: `run integration tests: python3 -c "import time; time.sleep(30)" did not finish within 300ms: find the test that hangs, or raise test.timeout in slipway.yaml`,
		},
		{
			name:    "a program that is not installed",
			suite:   Suite{Command: []string{"slipway-no-such-runner", "--ci"}},
			wantErr: `run integration tests: slipway-no-such-runner --ci: "slipway-no-such-runner" is not installed or not on PATH (exec: "slipway-no-such-runner": executable file not found in $PATH): install it, or change test.command in slipway.yaml`,
		},
		{
			name:    "a script that is not in the checkout",
			suite:   Suite{Command: []string{"./scripts/e2e.sh"}},
			wantErr: "scripts/e2e.sh does not exist: test.command's program is relative to slipway.yaml's directory",
		},
		{
			name:    "no command",
			suite:   Suite{},
			wantErr: `there is no test command: set test.command in slipway.yaml, such as ["npm", "test"]`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.node {
				testenv.Binary(t, "node", "install Node.js 18 or later (node on PATH)")
			}
			dir := appDir(t, tc.files...)
			if tc.before != nil {
				tc.before(t, dir)
			}
			s := tc.suite
			s.Dir = dir
			var progress bytes.Buffer
			start := time.Now()
			res, err := s.Run(t.Context(), Target{BaseURL: url, ExpectCommit: tc.commit}, &progress)
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("Run() took %s", took)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Run() error = %v\nwant one containing %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run() error = %v\n%s", err, progress.String())
			}
			if got := stable(res.Summary(), url); got != tc.wantSummary {
				t.Errorf("Summary() = %q\nwant        %q\n%s", got, tc.wantSummary, progress.String())
			}
			if res.OK() != tc.wantOK {
				t.Errorf("OK() = %v, want %v", res.OK(), tc.wantOK)
			}
			if len(tc.wantFail) > 0 && !slices.Equal(res.Failures, tc.wantFail) {
				t.Errorf("Failures = %q\nwant       %q", res.Failures, tc.wantFail)
			}
			if !strings.HasPrefix(progress.String(), "integration: running "+s.String()+" in "+dir+" against "+url+"\n") {
				t.Errorf("progress does not start with the command:\n%s", progress.String())
			}
			if tc.wantShown != "" && !slices.Contains(strings.Split(progress.String(), "\n"), tc.wantShown) &&
				!strings.Contains(progress.String(), "\n"+tc.wantShown) {
				t.Errorf("progress lacks the line %q:\n%s", tc.wantShown, progress.String())
			}
		})
	}
}

// A run cut short by the timeout stops every process the command started:
// the command takes the interrupt, and a child that ignores it (its
// output elsewhere, so nothing holds the run open) is killed.
func TestATimedOutCommandIsStoppedWithWhatItStarted(t *testing.T) {
	needPython(t)
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("SKIPPED (not counted as passed): needs /proc to see the child's end")
	}
	dir := t.TempDir()
	child := "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(30)"
	script := fmt.Sprintf("import subprocess, time; p = subprocess.Popen(['python3', '-c', %q], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); open('child.pid', 'w').write(str(p.pid)); time.sleep(30)", child)
	s := Suite{Dir: dir, Command: []string{"python3", "-c", script}, Timeout: time.Second}
	start := time.Now()
	_, err := s.Run(t.Context(), Target{BaseURL: "http://127.0.0.1:1"}, nil)
	if err == nil || !strings.Contains(err.Error(), "did not finish within 1s") {
		t.Fatalf("Run() error = %v, want the timeout", err)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("Run() took %s with a 1s timeout", took)
	}
	pid, err := os.ReadFile(filepath.Join(dir, "child.pid"))
	if err != nil {
		t.Fatalf("the command did not start its child in time: %v", err)
	}
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		stat, err := os.ReadFile("/proc/" + string(pid) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") { // gone, or dead and not yet reaped
			return
		}
		if time.Now().After(deadline) {
			_ = exec.Command("kill", "-9", string(pid)).Run()
			t.Fatalf("the child %s that ignored SIGINT outlived the run", pid)
		}
	}
}

// The output a command prints is shown line by line, each line cut to a
// readable length, and the Result keeps its beginning and its end.
func TestLongOutputIsShownInBoundedLinesAndKeptInPart(t *testing.T) {
	var progress bytes.Buffer
	out := newTranscript(&progress)
	l := &lines{fn: out.line}
	long := strings.Repeat("é", 1000) // 2000 bytes
	_, _ = l.Write([]byte("first\n" + long + "\nlast without newline"))
	l.flush()
	shown := strings.Split(strings.TrimSuffix(progress.String(), "\n"), "\n")
	if len(shown) != 3 || shown[0] != "first" || shown[2] != "last without newline" {
		t.Fatalf("progress = %q, want three lines", shown)
	}
	if !strings.HasSuffix(shown[1], "… (1488 more bytes)") || len(shown[1]) > maxLine+30 {
		t.Errorf("a 2000-byte line is shown as %d bytes: %q", len(shown[1]), shown[1][len(shown[1])-40:])
	}
	for i := range 3 * keepHalf / 100 {
		out.keep(strings.Repeat(string(rune('a'+i%26)), 99) + "\n")
	}
	kept := out.String()
	if len(kept) > 2*keepHalf+100 || !strings.HasPrefix(kept, "first\n") || !strings.Contains(kept, "bytes of output left out") {
		t.Errorf("kept %d bytes (begins %q), want the first and last %d and a note between", len(kept), kept[:10], keepHalf)
	}
}
