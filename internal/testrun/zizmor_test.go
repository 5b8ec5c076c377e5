package testrun

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/testenv"
)

// zizmorIn runs the suite's zizmor step over dir with the venv the suite
// prepared (SLIPWAY_VENV, else PATH); it fails under CI, and skips on a
// laptop, when zizmor is not installed.
func zizmorIn(t *testing.T, dir string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := Zizmor(dir).Command(ctx, dir, os.Getenv("SLIPWAY_VENV")).CombinedOutput()
	if errors.Is(err, exec.ErrNotFound) {
		testenv.Missing(t, "zizmor", "run the suite with `go run mage.go test`, which installs the pinned zizmor in a venv (SLIPWAY_VENV)")
	}
	return string(out), err
}

// writeWorkflow writes a workflow into a scratch repository's
// .github/workflows and returns the repository's .github.
func writeWorkflow(t *testing.T, name, text string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), ".github")
	if err := os.MkdirAll(filepath.Join(dir, "workflows"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "workflows", name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const riskyWorkflow = `name: risky
on:
  pull_request_target:
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
`

const pinnedSHA = "11d5960a326750d5838078e36cf38b85af677262" // actions/checkout v4.4.0

func TestSuiteAuditsTheWorkflowsWithZizmor(t *testing.T) {
	i := slices.IndexFunc(Steps(nil), func(s Step) bool { return s.Name == "zizmor" })
	if i < 0 {
		t.Fatalf("the suite has no zizmor step: %+v", Steps(nil))
	}
	if args := Steps(nil)[i].Args; !slices.Equal(args, Zizmor(".github").Args) {
		t.Errorf("zizmor step %q; want the audit of .github, %q", args, Zizmor(".github").Args)
	}
	if !slices.Contains(PythonRequirements, "zizmor=="+zizmorVersion(t)) {
		t.Errorf("the venv's zizmor is %s; PythonRequirements pins %q", zizmorVersion(t), PythonRequirements)
	}
}

// zizmorVersion is the version of the zizmor the tests run.
func zizmorVersion(t *testing.T) string {
	t.Helper()
	out, err := Step{"zizmor", []string{"zizmor", "--version"}}.Command(context.Background(), t.TempDir(), os.Getenv("SLIPWAY_VENV")).Output()
	if errors.Is(err, exec.ErrNotFound) {
		testenv.Missing(t, "zizmor", "run the suite with `go run mage.go test`, which installs the pinned zizmor in a venv (SLIPWAY_VENV)")
	}
	if err != nil {
		t.Fatalf("zizmor --version: %v", err)
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "zizmor ")
}

// A high finding fails the step whatever a zizmor.yml in the audited
// repository says; a low one (a local action by ./) does not; an ignore
// comment on the trigger, with its reason, is honoured.
func TestZizmorStepFailsOnHighFindingsOnly(t *testing.T) {
	t.Run("an unpinned action and pull_request_target fail", func(t *testing.T) {
		dir := writeWorkflow(t, "risky.yml", riskyWorkflow)
		out, err := zizmorIn(t, dir)
		if err == nil || !strings.Contains(out, "unpinned-uses") || !strings.Contains(out, "dangerous-triggers") {
			t.Errorf("zizmor = %v; want a failure naming unpinned-uses and dangerous-triggers:\n%s", err, out)
		}
	})
	t.Run("a zizmor.yml cannot turn the audits off", func(t *testing.T) {
		dir := writeWorkflow(t, "risky.yml", riskyWorkflow)
		cfg := "rules:\n  unpinned-uses:\n    disable: true\n  dangerous-triggers:\n    disable: true\n"
		for _, p := range []string{filepath.Join(dir, "zizmor.yml"), filepath.Join(dir, "..", "zizmor.yml")} {
			if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if out, err := zizmorIn(t, dir); err == nil {
			t.Errorf("zizmor passed with a zizmor.yml that disables its audits; want the step to ignore it:\n%s", out)
		}
	})
	t.Run("pinned, justified, with a low finding: passes", func(t *testing.T) {
		ok := strings.Replace(riskyWorkflow, "actions/checkout@v4", "actions/checkout@"+pinnedSHA+" # v4.4.0", 1)
		ok = strings.Replace(ok, "pull_request_target:", "pull_request_target: # zizmor: ignore[dangerous-triggers] base-branch code only", 1)
		ok += "      - uses: ./.github/actions/setup\n"
		dir := writeWorkflow(t, "ok.yml", ok)
		if out, err := zizmorIn(t, dir); err != nil {
			t.Errorf("zizmor: %v; want a pass:\n%s", err, out)
		}
	})
}
