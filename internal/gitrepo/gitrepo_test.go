package gitrepo

import (
	"context"
	"os/exec"
	"strings"
	"testing"
)

func repo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "first"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

func TestBranchHeadAndDefaultBranchOfACheckout(t *testing.T) {
	ctx := context.Background()
	dir := repo(t)
	if b, err := Branch(ctx, dir); err != nil || b != "main" {
		t.Fatalf("Branch = %q, %v; want main", b, err)
	}
	head, err := Head(ctx, dir)
	if err != nil || len(head) != 40 {
		t.Fatalf("Head = %q, %v; want a full SHA", head, err)
	}
	if d := DefaultBranch(ctx, dir); d != "" {
		t.Errorf("DefaultBranch without origin = %q, want \"\"", d)
	}
	if _, err := Run(ctx, dir, "checkout", "-q", "--detach"); err != nil {
		t.Fatal(err)
	}
	if b, err := Branch(ctx, dir); err != nil || b != "" {
		t.Fatalf("Branch of a detached HEAD = %q, %v; want \"\"", b, err)
	}
}

func TestRunSaysWhatGitSaid(t *testing.T) {
	_, err := Run(context.Background(), t.TempDir(), "rev-parse", "HEAD")
	if err == nil || !strings.Contains(err.Error(), "git rev-parse HEAD") || !strings.Contains(err.Error(), "not a git repository") {
		t.Fatalf("err = %v, want the command and git's own words", err)
	}
}
