package github

import (
	"fmt"
	"io"
	"strings"
)

// Limits of rendered untrusted text, in characters.
const (
	maxBranch  = 120
	maxSummary = 300
	maxNote    = 500
	maxErr     = 4000
)

// RenderComment writes the pull request comment for r: Marker on the first
// line, then the preview's state. Branch names, test output and error text
// are escaped: they cannot add HTML, links, mentions or table cells.
func RenderComment(w io.Writer, r PreviewReport) error {
	var b strings.Builder
	b.WriteString(Marker + "\n")
	renderPreview(&b, r)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write comment of pull request #%d: %w", r.PR, err)
	}
	return nil
}

// StepSummary writes r as Markdown for $GITHUB_STEP_SUMMARY.
func StepSummary(w io.Writer, r PreviewReport) error {
	var b strings.Builder
	renderPreview(&b, r)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write step summary of pull request #%d: %w", r.PR, err)
	}
	return nil
}

// renderPreview writes the heading, table, notes, error and next steps.
func renderPreview(b *strings.Builder, r PreviewReport) {
	fmt.Fprintf(b, "### Slipway preview `%s`: %s\n\n", PreviewEnvironment(r.PR), statusText(r))
	if lead := leadSentence(r); lead != "" {
		b.WriteString(lead + "\n\n")
	}
	b.WriteString("| | |\n| --- | --- |\n")
	for _, row := range rows(r) {
		fmt.Fprintf(b, "| **%s** | %s |\n", row[0], row[1])
	}
	b.WriteString("\n")
	if len(r.Notes) > 0 {
		lines := make([]string, len(r.Notes))
		for i, n := range r.Notes {
			lines[i] = "> " + escapeCell(n, maxNote)
		}
		b.WriteString(strings.Join(lines, "\n>\n") + "\n\n")
	}
	if r.Err != "" {
		b.WriteString("<details open><summary>Error</summary>\n\n<pre>\n")
		b.WriteString(escapePre(r.Err, maxErr))
		b.WriteString("\n</pre>\n\n</details>\n\n")
	}
	if r.Timing != nil && r.Status != StatusDeploying && r.Status != StatusDestroyed {
		renderTiming(b, *r.Timing)
	}
	b.WriteString(nextSteps(r) + "\n")
}

func statusText(r PreviewReport) string {
	switch r.Status {
	case StatusDeploying:
		return "⏳ deploying"
	case StatusDeployed:
		return "✅ deployed"
	case StatusFailed:
		return "❌ failed"
	case StatusDestroyed:
		if r.Err != "" {
			return "❌ removal failed"
		}
		return "🗑️ removed"
	}
	return escapeCell(r.Status, 40)
}

func leadSentence(r PreviewReport) string {
	env := "`" + PreviewEnvironment(r.PR) + "`"
	switch {
	case r.Status == StatusDestroyed && r.Err != "":
		return "Removing the preview environment " + env + " failed; it may still exist."
	case r.Status == StatusDestroyed:
		return "The preview environment " + env + " was removed."
	case r.Ephemeral && r.Status == StatusDeploying:
		return "This preview runs on the CI runner (local target) and lives only for this run."
	case r.Ephemeral:
		return "This preview ran on the CI runner (local target) and lived only for this run; the integration tests ran against it there."
	}
	return ""
}

// rows returns the table's label and (already escaped) value pairs.
func rows(r PreviewReport) [][2]string {
	env := "`" + PreviewEnvironment(r.PR) + "`"
	if r.Target != "" {
		env += " (" + escapeCell(r.Target, 20) + ")"
	}
	commit := "—"
	if r.SHA != "" {
		commit = shortSHA(r.SHA)
	}
	if r.Branch != "" {
		commit += " on " + escapeCell(r.Branch, maxBranch)
	}
	out := [][2]string{{"Environment", env}}
	if r.Status != StatusDestroyed {
		out = append(out, [2]string{"URL", urlCell(r)})
	}
	out = append(out, [2]string{"Commit", commit})
	if r.Status != StatusDestroyed {
		out = append(out, [2]string{"Image", orDash(r.ImageDigest, shortDigest)})
	}
	out = append(out, [2]string{"Stack", orDash(r.Stack, func(s string) string { return escapeCell(s, 128) })})
	out = append(out, [2]string{"Status", statusText(r)})
	if r.Status != StatusDestroyed {
		out = append(out, [2]string{"Integration tests", testsCell(r)})
	}
	if r.Database != nil && r.Status != StatusDestroyed {
		out = append(out, [2]string{"Database", databaseCell(*r.Database)})
	}
	if r.Compat != nil && r.Status != StatusDestroyed {
		out = append(out, [2]string{"Schema compatibility", compatCell(*r.Compat)})
	}
	out = append(out, [2]string{"Updated", r.Updated.UTC().Format("2006-01-02 15:04:05 UTC")})
	if r.LogURL != "" {
		out = append(out, [2]string{"Run log", link(r.LogURL)})
	}
	return out
}

func urlCell(r PreviewReport) string {
	switch {
	case r.URL == "" && r.Status == StatusDeploying:
		return "not yet"
	case r.URL == "":
		return "—"
	case r.Ephemeral:
		return escapeCell(r.URL, 200) + " (on the runner, gone after the run)"
	}
	return link(r.URL)
}

func testsCell(r PreviewReport) string {
	t := r.Tests
	switch {
	case t == nil && r.Status == StatusDeploying:
		return "⏳ pending"
	case t == nil && r.Status == StatusDeployed:
		return "⚠️ no result reported"
	case t == nil:
		return "not run"
	}
	s := "❌ " + testCounts(t)
	if t.OK {
		s = "✅ " + testCounts(t)
	}
	if t.Summary != "" {
		s += " — " + escapeCell(t.Summary, maxSummary)
	}
	return s
}

func nextSteps(r PreviewReport) string {
	deploy := fmt.Sprintf("`go run mage.go preview:deploy -pr=%d`", r.PR)
	destroy := fmt.Sprintf("`go run mage.go preview:destroy -pr=%d`", r.PR)
	switch {
	case r.Status == StatusDestroyed && r.Err != "":
		return "Retry the removal: " + destroy + "."
	case r.Status == StatusDestroyed:
		return "To deploy it again, push a commit, reopen the pull request, or run " + deploy + "."
	case r.Ephemeral:
		return "Nothing to remove by hand: the environment lived only for this run."
	case r.Status == StatusFailed:
		return "Retry: re-run the workflow, or run " + deploy + ". Remove what is left: " + destroy + "."
	}
	return "Remove this environment by hand: " + destroy + "."
}

func orDash(s string, f func(string) string) string {
	if s == "" {
		return "—"
	}
	return f(s)
}

// databaseCell says where the preview's database came from and the schema
// it was migrated to; never its URL.
func databaseCell(d DatabaseReport) string {
	from := "the golden copy"
	if d.Release != "" {
		from = "the golden copy of release " + escapeCell(d.Release, 128)
	}
	if d.Cloned {
		return fmt.Sprintf("cloned from %s, migrated to schema %d", from, d.Head)
	}
	return fmt.Sprintf("kept from an earlier deploy (first cloned from %s), migrated to schema %d", from, d.Head)
}

// compatCell is the schema-compat check's line: its outcome, naming the
// release and the failing tests.
func compatCell(c CompatReport) string {
	mark := map[string]string{StatusPendingCompat: "⏳ ", StatusPassedCompat: "✅ ", StatusFailedCompat: "❌ "}[c.Status]
	if mark == "" {
		mark = "⚠️ "
	}
	return mark + escapeCell(compatText(c), maxSummary)
}
