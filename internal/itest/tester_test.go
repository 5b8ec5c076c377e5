package itest

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/manifest"
	"github.com/slipway/slipway/internal/testenv"
)

// loadManifest writes slipway.yaml (and the Dockerfile it needs) into a new
// directory and loads it.
func loadManifest(t *testing.T, yaml string) *manifest.Manifest {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "Dockerfile", []byte("FROM scratch\n"))
	m, err := manifest.Load(writeFile(t, dir, manifest.FileName, []byte(yaml)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSuiteForTakesTheManifestsTestsOrTheSampleApps(t *testing.T) {
	withTests := loadManifest(t, "app: shop\ntest:\n  command: [pytest, -q, --junitxml=reports/junit.xml]\n  junit: reports/junit.xml\n  timeout: 5m\n")
	without := loadManifest(t, "app: shop\n")
	sample := SampleSuite("/src/slipway")
	tests := map[string]struct {
		m    *manifest.Manifest
		want Suite
	}{
		"no manifest: the sample app's go test -json": {nil, sample},
		"no slipway.yaml: the sample app's":           {manifest.Default(), sample},
		"the file's command, directory, report and timeout": {withTests, Suite{Dir: withTests.Dir,
			Command: []string{"pytest", "-q", "--junitxml=reports/junit.xml"},
			JUnit:   filepath.Join(withTests.Dir, "reports", "junit.xml"), Timeout: 5 * time.Minute}},
		"a slipway.yaml without test.command: no tests": {without, Suite{Dir: without.Dir, Timeout: manifest.DefaultTestTimeout}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := SuiteFor(tc.m, "/src/slipway")
			if got.Dir != tc.want.Dir || !slices.Equal(got.Command, tc.want.Command) || got.JUnit != tc.want.JUnit ||
				got.Timeout != tc.want.Timeout || got.need != tc.want.need {
				t.Errorf("SuiteFor() = %+v\nwant        %+v", got, tc.want)
			}
		})
	}
	if got := SampleSuite("/src/slipway").String(); got != "go test -count=1 -json ./sample-app/integration" {
		t.Errorf("the sample app's command is %q", got)
	}
}

// An app whose slipway.yaml has no test command is deployed untested, and
// the summary (in the PR comment, the log) says so.
func TestAnAppWithoutATestCommandPassesAndSaysItWasNotTested(t *testing.T) {
	var log bytes.Buffer
	x := Tester{Suite: SuiteFor(loadManifest(t, "app: shop\n"), t.TempDir()), Log: &log}
	for name, test := range map[string]func() (deploy.TestResult, error){
		"Test":       func() (deploy.TestResult, error) { return x.Test(t.Context(), target) },
		"TestCommit": func() (deploy.TestResult, error) { return x.TestCommit(t.Context(), strings.Repeat("ab", 20), target) },
	} {
		res, err := test()
		const want = "integration: no tests: slipway.yaml has no test.command, so http://127.0.0.1:1 was not tested (add one to test every stack before it gets traffic)"
		if err != nil || !res.OK || res.Summary != want {
			t.Errorf("%s() = %+v, %v; want OK with %q", name, res, err, want)
		}
	}
	if !strings.Contains(log.String(), "no tests") {
		t.Errorf("the log does not say the app has no tests:\n%s", log.String())
	}
}

// Slipway's sample app, described by its own slipway.yaml, runs its Go
// tests through the same path as any app: its go test -json stream counts.
func TestTheSampleAppsManifestRunsItsGoTestsThroughTheSamePath(t *testing.T) {
	needGo(t)
	m, err := manifest.Load(filepath.Join(moduleDir, "sample-app", manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	url := startSampleApp(t)
	var log bytes.Buffer
	res, err := Tester{Suite: SuiteFor(m, "unused"), Log: &log}.Test(t.Context(),
		deploy.TestTarget{BaseURL: url, Commit: sampleCommit, Stack: "pr-42-blue"})
	if err != nil {
		t.Fatalf("Test() error = %v\n%s", err, log.String())
	}
	if want := "integration: 3 passed, 0 failed, 2 skipped (T) against URL"; !res.OK || stable(res.Summary, url) != want {
		t.Errorf("Test() = %+v\nwant OK and %q\n%s", res, want, log.String())
	}
	if !strings.Contains(log.String(), "\nPASS TestHealthzIsOK (") {
		t.Errorf("the log lacks the line per test:\n%s", log.String())
	}
}

// The release's tests run from the same directory of its own commit, with
// the report read from there: a suite in a subdirectory of the repository
// whose PR relaxed the release's failing check.
func TestTestCommitRunsTheSuiteInTheSameDirectoryOfTheCommit(t *testing.T) {
	needPython(t)
	repo := t.TempDir()
	script := readTestdata(t, "python/check_app.py")
	writeFile(t, repo, "shop/check_app.py", bytes.Replace(script, []byte("def test_notes():"),
		[]byte("def test_notes():\n    raise AssertionError(\"the release's own check: notes are gone\")"), 1))
	runGit(t, repo, "init", "--quiet")
	runGit(t, repo, "add", ".")
	runGit(t, repo, "commit", "--quiet", "-m", "release")
	release := runGit(t, repo, "rev-parse", "HEAD")
	writeFile(t, repo, "shop/check_app.py", script)
	runGit(t, repo, "commit", "--quiet", "-am", "pr: relax the check")

	dir := filepath.Join(repo, "shop")
	x := Tester{Suite: Suite{Dir: dir, Command: []string{"python3", "check_app.py", "reports/junit.xml"},
		JUnit: filepath.Join(dir, "reports", "junit.xml")}, Log: testenv.Log(t)}
	url := startSampleApp(t)
	tt := deploy.TestTarget{BaseURL: url, Commit: sampleCommit}
	own, err := x.Test(t.Context(), tt)
	if err != nil || !own.OK || own.Passed != 3 {
		t.Fatalf("the checkout's tests: %+v, %v; want the PR's passing", own, err)
	}
	if err := os.Remove(x.Suite.JUnit); err != nil {
		t.Fatal(err)
	}
	res, err := x.TestCommit(t.Context(), release, tt)
	if err != nil {
		t.Fatalf("TestCommit() error = %v", err)
	}
	want := []string{"check_app.test_notes: the release's own check: notes are gone"}
	if res.OK || res.Passed != 3 || !slices.Equal(res.Failures, want) {
		t.Fatalf("the release's tests: %+v; want its own test_notes failing", res)
	}
	if _, err := os.Stat(x.Suite.JUnit); err == nil {
		t.Error("the release's report was written into the checkout, not its worktree")
	}
	if n := worktrees(t, repo); n != 1 {
		t.Errorf("%d worktrees after the run, want only the checkout", n)
	}
}
