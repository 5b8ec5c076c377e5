package commands

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/deploy"
)

// A command ends with its timing table on stderr (stdout stays the result
// a script reads); in Actions a release's, rollback's or cleanup's table
// is also appended to the step summary, a preview's goes with its report.
func TestACommandEndsWithItsTimingOnStderrAndInTheStepSummary(t *testing.T) {
	summary := filepath.Join(t.TempDir(), "summary.md")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	var out, errw bytes.Buffer
	s := &Session{Out: &out, Err: &errw}
	tm := &deploy.Timing{Op: "release", Stack: "shop-prod-1", Total: 3 * time.Second, Phases: []deploy.Phase{
		{Name: deploy.PhaseBuild, Took: time.Second}, {Name: deploy.PhaseShift, Took: time.Second},
	}}

	showTiming(s, tm, false)
	if _, err := os.Stat(summary); !os.IsNotExist(err) {
		t.Errorf("a preview's timing went to the step summary beside its report: %v", err)
	}
	showTiming(s, tm, true)
	if out.Len() != 0 {
		t.Errorf("the timing went to stdout: %q", out.String())
	}
	if got := errw.String(); !strings.HasPrefix(got, "timing: release shop-prod-1\n") || !strings.Contains(got, "slowest: ") {
		t.Errorf("stderr:\n%s", got)
	}
	md, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(md), "<details><summary>Timing: ") || !strings.Contains(string(md), "| route/rule shift |") {
		t.Errorf("step summary:\n%s", md)
	}
	showTiming(s, nil, true) // not measured: nothing
}
