package github

import (
	"fmt"
	"io"
	"strings"

	"github.com/slipway/slipway/internal/deploy"
)

// renderTiming writes where a deploy's time went as a collapsed section:
// its summary line names the total and the slowest phase, the table has
// each phase and its share, and a last line says what governs the
// slowest phase when it is a wait.
func renderTiming(b *strings.Builder, t deploy.Timing) {
	fmt.Fprintf(b, "<details><summary>Timing: %s", deploy.Round(t.Total))
	slow, ok := t.Slowest()
	if ok {
		fmt.Fprintf(b, ", slowest: %s (%s)", escapeCell(slow.Name, 60), deploy.Round(slow.Took))
	}
	b.WriteString("</summary>\n\n| Phase | Duration |\n| --- | ---: |\n")
	for _, p := range t.Phases {
		name := escapeCell(p.Name, 60)
		if p.Note != "" {
			name += " (" + escapeCell(p.Note, 80) + ")"
		}
		fmt.Fprintf(b, "| %s | %s (%s) |\n", name, deploy.Round(p.Took), deploy.Share(p.Took, t.Total))
	}
	fmt.Fprintf(b, "| **total** | **%s** |\n\n", deploy.Round(t.Total))
	if ok && slow.Setting != "" {
		fmt.Fprintf(b, "The slowest phase, %s, is governed by %s.\n\n", escapeCell(slow.Name, 60), escapeCell(slow.Setting, 200))
	}
	b.WriteString("</details>\n\n")
}

// TimingSummary writes a release's, rollback's or cleanup's timing for
// $GITHUB_STEP_SUMMARY (a preview's is part of its report).
func TimingSummary(w io.Writer, t deploy.Timing) error {
	var b strings.Builder
	renderTiming(&b, t)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write step summary of the %s timing: %w", t.Op, err)
	}
	return nil
}
