package itest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/deploy"
)

// runGit runs git in dir for a test and returns its output.
func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

const releaseTest = `package integration

import "testing"

func TestNotesSurviveTheSchema(t *testing.T) { t.Fatal("the release's own check: notes are gone") }
`

// The pull request relaxed the release's test: its checkout passes.
const prTest = `package integration

import "testing"

func TestNotesSurviveTheSchema(t *testing.T) {}
`

// tempRepo is a git repository with a module whose integration test the
// second commit (the PR's, checked out) changed; it returns the repository
// and the first commit (the release's).
func tempRepo(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runGit(t, dir, "init", "--quiet")
	write("go.mod", "module example.com/shop\n\ngo 1.22\n")
	write("sample-app/integration/notes_test.go", releaseTest)
	runGit(t, dir, "add", ".")
	runGit(t, dir, "commit", "--quiet", "-m", "release")
	release := runGit(t, dir, "rev-parse", "HEAD")
	write("sample-app/integration/notes_test.go", prTest)
	runGit(t, dir, "commit", "--quiet", "-am", "pr: relax the test")
	return dir, release
}

var target = deploy.TestTarget{BaseURL: "http://127.0.0.1:1"}

// worktrees lists the repository's worktrees.
func worktrees(t *testing.T, dir string) int {
	t.Helper()
	return strings.Count(runGit(t, dir, "worktree", "list", "--porcelain"), "worktree ")
}

// The release's own tests run, not the checkout's changed ones, from a
// worktree of the release's commit that is gone afterwards; in a shallow
// clone without the commit it is fetched from origin first.
func TestTestCommitRunsTheReleasesOwnTests(t *testing.T) {
	repo, release := tempRepo(t)
	shallow := filepath.Join(t.TempDir(), "clone")
	runGit(t, repo, "clone", "--quiet", "--depth=1", "file://"+repo, shallow)
	if err := exec.Command("git", "-C", shallow, "cat-file", "-e", release+"^{commit}").Run(); err == nil {
		t.Fatal("the shallow clone has the release's commit already: the fetch would not be exercised")
	}
	for _, tt := range []struct{ name, dir string }{{"full clone", repo}, {"shallow clone", shallow}} {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			x := Tester{ModuleDir: tt.dir, Log: &log}
			own, err := x.Test(context.Background(), target)
			if err != nil || !own.OK {
				t.Fatalf("the checkout's tests: %+v, %v; want the PR's relaxed test passing", own, err)
			}
			res, err := x.TestCommit(context.Background(), release, target)
			if err != nil {
				t.Fatalf("TestCommit: %v\n%s", err, log.String())
			}
			if res.OK || res.Failed != 1 || len(res.Failures) != 1 || !strings.HasPrefix(res.Failures[0], "TestNotesSurviveTheSchema: ") || !strings.Contains(res.Failures[0], "the release's own check") {
				t.Fatalf("release's tests: %+v; want its own TestNotesSurviveTheSchema failing", res)
			}
			if n := worktrees(t, tt.dir); n != 1 {
				t.Fatalf("%d worktrees after the run, want only the checkout", n)
			}
			if m, _ := filepath.Glob(filepath.Join(os.TempDir(), "slipway-tests-"+release[:7]+"-*")); len(m) != 0 {
				t.Fatalf("temporary checkouts left: %v", m)
			}
		})
	}
	if !strings.Contains(runGit(t, shallow, "rev-parse", "--is-shallow-repository"), "true") {
		t.Fatal("fetching one commit deepened the shallow clone's history")
	}
}

// A commit that cannot be had is an error saying what to do, with nothing
// left behind; input that is not a SHA never reaches git.
func TestTestCommitRefusesWhatItCannotCheckOut(t *testing.T) {
	repo, release := tempRepo(t)
	shallow := filepath.Join(t.TempDir(), "clone")
	runGit(t, repo, "clone", "--quiet", "--depth=1", "file://"+repo, shallow)
	marker := filepath.Join(t.TempDir(), "ran")
	tests := []struct{ name, dir, commit, want string }{
		{"unknown to the checkout and to origin", shallow, strings.Repeat("0123456789", 4), "fetch it (git fetch origin 0123456789"},
		{"abbreviated and missing from a shallow clone", shallow, release[:10], "an abbreviated SHA cannot be fetched: fetch the release's history"},
		{"not a SHA", repo, "--upload-pack=touch " + marker, "not a commit SHA"},
		{"not in a git checkout", t.TempDir(), release, "is not in a git checkout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Tester{ModuleDir: tt.dir}.TestCommit(context.Background(), tt.commit, target)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("TestCommit(%q): %+v, %v; want an error saying %q", tt.commit, res, err, tt.want)
			}
			if res.OK || res.Passed != 0 {
				t.Fatalf("a commit it could not check out passed: %+v", res)
			}
		})
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("input that is not a SHA reached git as an option")
	}
	if n := worktrees(t, shallow); n != 1 {
		t.Fatalf("%d worktrees left in the clone, want only the checkout", n)
	}
}
