// Package gitrepo is Slipway's one way to ask git about a checkout: Run
// calls git with no prompt and returns the error git gave, and Branch,
// Head and DefaultBranch are the questions several packages ask.
package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Run runs git with args in dir ("" for this process's directory) and
// returns what it printed, trimmed. git never prompts (for credentials,
// say); its error names the command and carries what git wrote to stderr.
func Run(ctx context.Context, dir string, args ...string) (string, error) {
	return RunEnv(ctx, dir, nil, args...)
}

// RunEnv is Run with more environment variables ("NAME=value"), such as
// GIT_INDEX_FILE.
func RunEnv(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GIT_TERMINAL_PROMPT=0"), env...)
	out, err := cmd.Output()
	if errors.Is(err, exec.ErrNotFound) {
		return "", fmt.Errorf("find git: %w: install git (Debian: apt-get install git)", err)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Branch is the branch checked out in dir; "" when HEAD is detached.
func Branch(ctx context.Context, dir string) (string, error) {
	b, err := Run(ctx, dir, "rev-parse", "--abbrev-ref", "HEAD")
	if err != nil {
		return "", err
	}
	if b == "HEAD" {
		return "", nil
	}
	return b, nil
}

// Head is the full SHA of the commit checked out in dir.
func Head(ctx context.Context, dir string) (string, error) {
	return Run(ctx, dir, "rev-parse", "HEAD")
}

// DefaultBranch is the branch origin's HEAD names; "" when the checkout
// does not know it (no origin, or a clone that did not record it).
func DefaultBranch(ctx context.Context, dir string) string {
	ref, err := Run(ctx, dir, "symbolic-ref", "--short", "refs/remotes/origin/HEAD")
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(ref, "origin/")
}
