package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFakeAcceptsGitHubsExamplesAndRejectsBadBodies(t *testing.T) {
	ops := map[string]*operation{}
	for _, op := range loadOperations(t) {
		ops[op.ID] = op
	}
	examples := map[string]string{
		"issues.create-comment.request.json":            "issues/create-comment",
		"issues.update-comment.request.json":            "issues/update-comment",
		"repos.create-commit-status.request.json":       "repos/create-commit-status",
		"repos.create-deployment-status.request.json":   "repos/create-deployment-status",
		"repos.create-deployment.request.advanced.json": "repos/create-deployment",
		"repos.create-deployment.request.simple.json":   "repos/create-deployment",
	}
	for file, op := range examples {
		body := loadJSON(t, "rest/requests/"+file).(map[string]any)
		if p := ops[op].body.validate(body); len(p) > 0 {
			t.Errorf("GitHub's example %s fails the fake's checks: %v", file, p)
		}
	}
	bad := map[string]any{"state": "done", "descripton": "typo", "description": strings.Repeat("x", 141)}
	if p := ops["repos/create-deployment-status"].body.validate(bad); len(p) != 3 {
		t.Errorf("bad body problems = %q; want the enum, the unknown field and the length", p)
	}
	if p := ops["repos/create-deployment"].body.validate(map[string]any{"auto_merge": "no"}); len(p) != 2 {
		t.Errorf("bad body problems = %q; want the missing ref and the non-boolean", p)
	}
}

func TestNextLink(t *testing.T) {
	tests := map[string]string{
		`<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"`: "https://api.github.com/x?page=2",
		`<https://api.github.com/x?page=1>; rel="prev"; rel="first"`:                                   "",
		`<https://api.github.com/x?page=3>; rel="last next"`:                                           "https://api.github.com/x?page=3",
		`garbage, <>; rel=next`: "",
		``:                      "",
	}
	for in, want := range tests {
		if got := nextLink(in); got != want {
			t.Errorf("nextLink(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestAnnotateEscapesWorkflowCommands(t *testing.T) {
	var b strings.Builder
	err := errors.Join(errors.New("deploy pr-42: 100% broken\r\n::set-output name=x::y"), fmt.Errorf("wrap: %w", errors.New("second")))
	if err := Annotate(&b, err); err != nil {
		t.Fatalf("Annotate: %v", err)
	}
	want := "::error::deploy pr-42: 100%25 broken%0D%0A::set-output name=x::y\n::error::wrap: second\n"
	if b.String() != want {
		t.Errorf("Annotate wrote %q; want %q", b.String(), want)
	}
	b.Reset()
	if err := Annotate(&b, nil); err != nil || b.Len() != 0 {
		t.Errorf("Annotate(nil) wrote %q, %v", b.String(), err)
	}
}

func TestWriteStepSummaryAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	if err := os.WriteFile(path, []byte("earlier\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := envMap(map[string]string{"GITHUB_STEP_SUMMARY": path})
	if err := WriteStepSummary(env, deployedReport()); err != nil {
		t.Fatalf("WriteStepSummary: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "earlier\n### Slipway preview `pr-42`") {
		t.Errorf("summary file = %q", b)
	}
	if err := WriteStepSummary(envMap(nil), deployedReport()); err != nil {
		t.Errorf("WriteStepSummary outside Actions: %v", err)
	}
}

func TestNewPublisherFromEnvWithoutATokenSaysHowToLogIn(t *testing.T) {
	t.Setenv("GH_TOKEN", "")
	t.Setenv("GITHUB_TOKEN", "")
	t.Setenv("GH_CONFIG_DIR", t.TempDir())
	t.Setenv("GH_PATH", filepath.Join(t.TempDir(), "no-gh")) // no `gh auth token` fallback
	_, err := NewPublisherFromEnv(envMap(map[string]string{"GITHUB_REPOSITORY": "octocat/Hello-World"}), nil)
	if !errors.Is(err, ErrNoAuth) || !strings.Contains(err.Error(), "gh auth login") {
		t.Errorf("NewPublisherFromEnv error = %v; want ErrNoAuth mentioning gh auth login", err)
	}
}

func TestNewPublisherFromEnvUsesTheRunsHostRepoAndToken(t *testing.T) {
	f := newFakeGitHub(t)
	env := envMap(map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "octocat/Hello-World",
		"GITHUB_TOKEN": fakeToken,
	})
	t.Setenv("GH_CONFIG_DIR", t.TempDir())
	p, err := newPublisherFromEnv(env, nil, f.transport())
	if err != nil {
		t.Fatalf("newPublisherFromEnv: %v", err)
	}
	if !p.commands || p.repo != "octocat/Hello-World" {
		t.Errorf("publisher = commands %v, repo %q", p.commands, p.repo)
	}
	if err := p.PreviewDestroyed(context.Background(), PreviewReport{PR: 42}); err != nil {
		t.Fatalf("PreviewDestroyed: %v", err)
	}
	if len(f.commentBodies(42)) != 1 {
		t.Error("no comment reached the fake")
	}
}

// TestFixturesMatchTheSharedOriginals guards the copies in testdata against
// drift when the shared fixtures sit beside the clone (../shared, as in the
// project's CI). A GitHub Actions checkout has no ../shared: the copies are
// all the other tests need, so this check is skipped there, not failed.
func TestFixturesMatchTheSharedOriginals(t *testing.T) {
	shared := ""
	for dir := moduleRoot(t); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "shared", "fixtures", "github")); err == nil {
			shared = filepath.Join(dir, "shared", "fixtures", "github")
			break
		}
		if filepath.Dir(dir) == dir {
			t.Skip("SKIPPED: no shared/fixtures/github beside the clone; the copies in testdata are used as they are")
		}
	}
	for _, sub := range []string{"events", "rest", "rest/requests"} {
		files, err := filepath.Glob(filepath.Join(shared, sub, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no fixtures in %s: %v", filepath.Join(shared, sub), err)
		}
		for _, f := range files {
			want, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := readTestdata(t, sub+"/"+filepath.Base(f))
			if !json.Valid(got) || string(got) != string(want) {
				t.Errorf("testdata/%s/%s differs from %s; copy it again", sub, filepath.Base(f), f)
			}
		}
	}
}

// A run that cannot reach GitHub says why in a few words; any other error
// keeps its whole text.
func TestUnreachableSaysWhyInAFewWords(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
		ok   bool
	}{
		{fmt.Errorf("look up pull request #5: find the GitHub repository of this checkout: %w (unable to determine current repository, no git remotes configured for this repository)", ErrNoRepository), "no GitHub remote in this checkout", true},
		{fmt.Errorf("publish: %w", ErrNoAuth), "no GitHub token (`gh auth login`, or GH_TOKEN)", true},
		{errors.New("GET repos/o/r/pulls/5: HTTP 502"), "", false},
	} {
		if got, ok := Unreachable(tc.err); got != tc.want || ok != tc.ok {
			t.Errorf("Unreachable(%v) = %q, %v; want %q, %v", tc.err, got, ok, tc.want, tc.ok)
		}
	}
}
