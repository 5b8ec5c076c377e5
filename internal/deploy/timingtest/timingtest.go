// Package timingtest is the one check of a deploy's timing record that the
// targets' tests share: its phases are the expected ones, in order, none
// negative, and they sum to at most the total. It never compares a
// duration with a number.
package timingtest

import (
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/deploy"
)

// Phases checks tm's phases against want, in order, and their sum.
func Phases(t *testing.T, tm *deploy.Timing, want ...string) {
	t.Helper()
	if tm == nil {
		t.Fatal("no timing")
	}
	var names []string
	var sum time.Duration
	for _, p := range tm.Phases {
		names = append(names, p.Name)
		if p.Took < 0 {
			t.Errorf("%s: phase %s took less than nothing", tm.Op, p.Name)
		}
		sum += p.Took
	}
	if got, w := strings.Join(names, ", "), strings.Join(want, ", "); got != w {
		t.Errorf("%s phases:\n got %s\nwant %s", tm.Op, got, w)
	}
	if sum > tm.Total {
		t.Errorf("%s: the phases sum to more than the total", tm.Op)
	}
}
