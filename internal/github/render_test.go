package github

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/deploy"
)

var renderTime = time.Date(2025, 3, 14, 15, 9, 26, 0, time.FixedZone("CET", 3600))

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// deployedReport is an AWS preview whose tests passed.
func deployedReport() PreviewReport {
	return PreviewReport{
		PR: 42, Repo: "octocat/Hello-World", Branch: "feature/login", SHA: prHeadSHA,
		URL:         "https://pr-42.preview.example.com",
		ImageDigest: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/slipway@" + digest,
		Stack:       "slipway-pr-42", Target: "aws", Status: StatusDeployed,
		Tests:  &TestResult{Passed: 12, OK: true, Summary: "12 checks against /healthz and /api"},
		LogURL: "https://github.com/octocat/Hello-World/actions/runs/123", Updated: renderTime,
	}
}

const hostileErr = "create stack slipway-pr-42: CREATE_FAILED\r\n  Listener: <script>alert(1)</script>\n" +
	"</pre></details> @octocat see #1 ```\n[click](javascript:alert(1)) | a | b |\x1b[31m\u202egnp.exe"

func TestRenderCommentGolden(t *testing.T) {
	tests := []struct {
		name   string
		change func(*PreviewReport)
	}{
		{"deploying", func(r *PreviewReport) { r.Status, r.URL, r.Tests = StatusDeploying, "", nil }},
		{"deployed", func(*PreviewReport) {}},
		{"deployed-database", func(r *PreviewReport) {
			r.Database = &DatabaseReport{Release: "slipway-prod-20250314140000-6dcb09b", Cloned: true, Head: 3}
		}},
		{"deploying-compat", func(r *PreviewReport) {
			r.Status, r.URL, r.Tests = StatusDeploying, "", nil
			r.Compat = &CompatReport{Status: StatusPendingCompat}
		}},
		{"compat-passed", func(r *PreviewReport) {
			r.Database = &DatabaseReport{Release: compatRelease, Cloned: true, Head: 4}
			r.Compat = &CompatReport{Status: StatusPassedCompat, Release: compatRelease, Schema: 4, Passed: 5}
		}},
		{"compat-failed", func(r *PreviewReport) {
			r.Database = &DatabaseReport{Release: compatRelease, Cloned: true, Head: 4}
			r.Compat = &CompatReport{Status: StatusFailedCompat, Release: compatRelease, Schema: 4, Passed: 4, Failed: 1,
				Failing: []string{"TestDatabaseKeepsThisEnvironmentsData"}}
		}},
		{"compat-no-release", func(r *PreviewReport) {
			r.Database = &DatabaseReport{Cloned: true, Head: 4}
			r.Compat = &CompatReport{Status: StatusPassedCompat, Schema: 4}
		}},
		{"compat-error", func(r *PreviewReport) {
			r.Database = &DatabaseReport{Release: compatRelease, Cloned: true, Head: 4}
			r.Compat = &CompatReport{Status: "error", Release: compatRelease, Schema: 4,
				Reason: "start release " + compatRelease + " on the preview's database: container exited with code 1 | <b>@octocat</b>"}
		}},
		{"tests-failed", func(r *PreviewReport) {
			r.Tests = &TestResult{Passed: 10, Failed: 2, Summary: "TestLogin: got 500 from /api/login\nTestLogout: timeout"}
		}},
		{"no-test-result", func(r *PreviewReport) { r.Tests = nil }},
		{"failed", func(r *PreviewReport) { r.Status, r.URL, r.Tests, r.Err = StatusFailed, "", nil, hostileErr }},
		{"ephemeral", func(r *PreviewReport) {
			r.Target, r.Ephemeral, r.URL, r.Stack, r.ImageDigest = "local", true, "http://127.0.0.1:8080", "", digest
			r.Notes = []string{"Pull request #42 comes from the fork mallory/Hello-World: no AWS deploy; checked on the runner."}
		}},
		{"timing", func(r *PreviewReport) { r.Timing = awsTiming() }},
		{"timing-failed", func(r *PreviewReport) {
			r.Status, r.Tests, r.Err = StatusFailed, nil, "deploy slipway-pr-42: target group has no healthy target within 5m0s"
			r.Timing = awsTiming()
			r.Timing.Phases, r.Timing.Total = r.Timing.Phases[:4], 185*time.Second
		}},
		{"destroyed", func(r *PreviewReport) { r.Status = StatusDestroyed }},
		{"destroy-failed", func(r *PreviewReport) { r.Status, r.Err = StatusDestroyed, "delete stack: DELETE_FAILED" }},
		{"hostile-shell", func(r *PreviewReport) { r.Branch = `zzz";echo${IFS}pwned;#` }},
		{"hostile-subshell", func(r *PreviewReport) { r.Branch = "$(touch /tmp/x)" }},
		{"hostile-html", func(r *PreviewReport) { r.Branch = "<img src=x onerror=alert(1)>" }},
		{"hostile-table", func(r *PreviewReport) { r.Branch = "| broken | table" }},
		{"hostile-everything", func(r *PreviewReport) {
			r.Branch = "@octocat `rm -rf` [x](https://evil.example) www.evil.example\n| x |"
			r.Stack, r.Target, r.ImageDigest = "stack|<b>", "aws<i>", "not-a-digest`"
			r.URL, r.LogURL = "javascript:alert(1)", "https://ok.example/run?a=<b>"
			r.Tests.Summary = "@here **bold** ~~gone~~ $x^2$ <!-- comment --> &amp;"
			r.Notes = []string{"note\nwith | pipe", "> quoted #3"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := deployedReport()
			tt.change(&r)
			var b strings.Builder
			if err := RenderComment(&b, r); err != nil {
				t.Fatalf("RenderComment: %v", err)
			}
			out := b.String()
			if !strings.HasPrefix(out, Marker+"\n") {
				t.Errorf("comment does not start with the marker:\n%s", out)
			}
			assertHarmless(t, out)
			golden(t, "comment-"+tt.name+".md", []byte(out))
		})
	}
}

const compatRelease = "slipway-prod-20250314140000-6dcb09b"

// The commit statuses a preview report sets, one line each: context,
// state, description (as sent: one line, at most 140 characters).
func TestCommitStatusesGolden(t *testing.T) {
	reports := []struct {
		name   string
		change func(*PreviewReport)
	}{
		{"deploying, no database", func(r *PreviewReport) { r.Status, r.Tests = StatusDeploying, nil }},
		{"deploying, database", func(r *PreviewReport) {
			r.Status, r.Tests, r.Compat = StatusDeploying, nil, &CompatReport{Status: StatusPendingCompat}
		}},
		{"deployed, compat passed", func(r *PreviewReport) {
			r.Compat = &CompatReport{Status: StatusPassedCompat, Release: compatRelease, Schema: 4, Passed: 5}
		}},
		{"deployed, no release", func(r *PreviewReport) { r.Compat = &CompatReport{Status: StatusPassedCompat, Schema: 4} }},
		{"deployed, compat failed", func(r *PreviewReport) {
			r.Compat = &CompatReport{Status: StatusFailedCompat, Release: compatRelease, Schema: 4, Passed: 3, Failed: 2,
				Failing: []string{"TestDatabaseKeepsThisEnvironmentsData", "TestDatabaseSchemaIsOneThisBuildRunsOn"}}
		}},
		{"deployed, compat failed without names", func(r *PreviewReport) {
			r.Compat = &CompatReport{Status: StatusFailedCompat, Release: compatRelease, Schema: 4, Passed: 3, Failed: 1}
		}},
		{"failed, not migrated", func(r *PreviewReport) {
			r.Status, r.Tests, r.Err = StatusFailed, nil, "migrate preview database: relation \"counters\" already exists"
			r.Compat = &CompatReport{Status: "error", Reason: "the preview's database was not migrated, so there was nothing to check"}
		}},
	}
	var b strings.Builder
	for _, tt := range reports {
		r := deployedReport()
		tt.change(&r)
		sts := []CommitStatus{integrationStatus(r)}
		if st, ok := compatStatus(r); ok {
			sts = append(sts, st)
		}
		fmt.Fprintf(&b, "# %s\n", tt.name)
		for _, st := range sts {
			fmt.Fprintf(&b, "%s %s: %s\n", st.Context, st.State, clip(oneLine(st.Description), 140))
		}
	}
	golden(t, "statuses.txt", []byte(b.String()))
}

// awsTiming is an aws preview's timing as the flow records it: rendered,
// not measured, so its numbers are the golden file's.
func awsTiming() *deploy.Timing {
	return &deploy.Timing{Op: "preview", Stack: "slipway-pr-42", Total: 193 * time.Second, Phases: []deploy.Phase{
		{Name: deploy.PhaseBuild, Took: 41300 * time.Millisecond},
		{Name: deploy.PhaseStack, Took: 52 * time.Second},
		{Name: deploy.PhaseRunning, Took: 18 * time.Second},
		{Name: deploy.PhaseHealthy, Took: 71 * time.Second, Setting: "health.interval 5s, health.healthy_threshold 2"},
		{Name: deploy.PhaseShift, Took: 400 * time.Millisecond},
		{Name: deploy.PhaseTests, Took: 6200 * time.Millisecond},
	}}
}

func TestStepSummaryGolden(t *testing.T) {
	r := deployedReport()
	r.Timing = awsTiming()
	r.Status, r.Tests, r.Err = StatusFailed, &TestResult{Passed: 3, Failed: 1}, "integration tests failed"
	r.Notes = []string{"AWS deploy skipped: pull request #42 comes from a fork."}
	var b strings.Builder
	if err := StepSummary(&b, r); err != nil {
		t.Fatalf("StepSummary: %v", err)
	}
	if strings.Contains(b.String(), Marker) {
		t.Error("the step summary must not carry the comment marker")
	}
	assertHarmless(t, b.String())
	golden(t, "summary-failed.md", []byte(b.String()))
}

var (
	tagRE        = regexp.MustCompile(`<[^>]*>`)
	allowedTagRE = regexp.MustCompile(`^(<!-- slipway:preview -->|</?pre>|<details( open)?>|</details>|</?summary>|<https?://[^\s<>|` + "`" + `]+>)$`)
	codeRE       = regexp.MustCompile("`[^`]*`")
	allowedCode  = regexp.MustCompile("^`(pr-\\d+|[0-9a-f]{7}|sha256:[0-9a-f]{12}|go run mage.go preview:(deploy|destroy) -pr=\\d+)`$")
	mentionRE    = regexp.MustCompile(`(^|[^&])[@#][A-Za-z0-9]`) // "&#8203;" is an entity, not a reference
)

// assertHarmless checks the structure of rendered Markdown: table rows keep
// three cell separators, the only HTML is ours, the only code spans are
// ours, and nothing mentions, references or links outside our links.
func assertHarmless(t *testing.T, md string) {
	t.Helper()
	outside := md
	if i, j := strings.Index(md, "<pre>"), strings.Index(md, "</pre>"); i >= 0 && j > i {
		outside = md[:i] + md[j:] // inside <pre>, GitHub renders text only
	}
	for _, line := range strings.Split(outside, "\n") {
		if strings.HasPrefix(line, "|") && strings.Count(line, "|") != 3 {
			t.Errorf("table row with extra cells: %q", line)
		}
	}
	for _, tag := range tagRE.FindAllString(outside, -1) {
		if !allowedTagRE.MatchString(tag) {
			t.Errorf("unexpected HTML or autolink %q", tag)
		}
	}
	for _, code := range codeRE.FindAllString(outside, -1) {
		if !allowedCode.MatchString(code) {
			t.Errorf("unexpected code span %q", code)
		}
	}
	if m := mentionRE.FindString(outside); m != "" {
		t.Errorf("a mention or reference %q survived", m)
	}
	if strings.Contains(outside, "](") {
		t.Error("rendered text contains a Markdown link")
	}
	for _, bad := range []string{"\x1b", "\u202e", "\r"} {
		if strings.Contains(md, bad) {
			t.Errorf("rendered text contains %q", bad)
		}
	}
	if strings.Count(md, "</pre>") > 1 {
		t.Error("error text closed the <pre> block")
	}
}

func TestShortDigestAndSHA(t *testing.T) {
	if got := shortDigest("repo@" + digest); got != "`sha256:0123456789ab`" {
		t.Errorf("shortDigest = %s", got)
	}
	if got := shortSHA(prHeadSHA); got != "`6dcb09b`" {
		t.Errorf("shortSHA = %s", got)
	}
	if got := shortSHA("main`"); strings.Contains(got, "`") {
		t.Errorf("shortSHA of a non-SHA kept a backtick: %s", got)
	}
}

func FuzzEscapeCell(f *testing.F) {
	for _, s := range []string{`zzz";echo${IFS}pwned;#`, "$(touch /tmp/x)", "<img src=x onerror=alert(1)>", "| broken | table", "@a\n#1 www.x https://y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := escapeCell(s, 100)
		if strings.ContainsAny(out, "<>|`[]\\\n\r*_~$") {
			t.Errorf("escapeCell(%q) = %q keeps a metacharacter", s, out)
		}
		if m := mentionRE.FindString(out); m != "" {
			t.Errorf("escapeCell(%q) = %q keeps a mention %q", s, out, m)
		}
		for _, r := range out {
			if unsafeRune(r) {
				t.Errorf("escapeCell(%q) = %q keeps control character %U", s, out, r)
			}
		}
	})
}
