package itest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/gitrepo"
	"github.com/slipway/slipway/internal/naming"
)

// The tests of another commit (deploy.CommitTester): the schema-compat
// check judges the live release by its own integration tests, so they run
// from a temporary detached git worktree of the release's commit, fetched
// from origin when the checkout lacks it (a shallow CI clone), and removed
// afterwards. The command is this checkout's test.command, run in the
// same directory of the worktree. git runs without a shell; the commit
// must be a hex SHA.

var _ deploy.CommitTester = Tester{}

var commitRe = regexp.MustCompile(`^[0-9a-f]{7,64}$`)

// gitTimeout bounds each git command (a fetch from origin included).
const gitTimeout = 2 * time.Minute

// TestCommit runs the integration tests as they are at commit against t:
// the suite's command, in the directory of the commit's worktree that is
// where the suite's Dir is in the checkout.
func (x Tester) TestCommit(ctx context.Context, commit string, t deploy.TestTarget) (deploy.TestResult, error) {
	s := x.suite()
	if len(s.Command) == 0 {
		return x.test(ctx, s, t)
	}
	wt, err := Checkout(ctx, s.Dir, commit, x.Log)
	if err != nil {
		return deploy.TestResult{}, err
	}
	defer func() {
		if err := wt.Remove(); err != nil && x.Log != nil {
			fmt.Fprintf(x.Log, "integration: warning: %v\n", err)
		}
	}()
	return x.test(ctx, s.in(wt.Dir), t)
}

// in is s run from dir instead of Dir: its report, when relative to Dir
// or inside it, moves along.
func (s Suite) in(dir string) Suite {
	if s.JUnit != "" && filepath.IsAbs(s.JUnit) {
		if r, err := filepath.Rel(s.Dir, s.JUnit); err == nil {
			s.JUnit = r
		}
	}
	s.Dir = dir
	return s
}

// Worktree is a temporary detached checkout of one commit.
type Worktree struct {
	Commit    string // full SHA
	Dir       string // testDir's counterpart in it
	repo, dir string
	parent    string
}

// Checkout makes a detached worktree of commit from the git repository
// holding testDir, in a new temporary directory; Remove deletes it. A commit
// the repository lacks is fetched from origin (with --depth=1 when the
// repository is shallow). A commit that is not a hex SHA is refused
// before git sees it.
func Checkout(ctx context.Context, testDir, commit string, log io.Writer) (*Worktree, error) {
	commit = strings.ToLower(commit)
	if !commitRe.MatchString(commit) {
		return nil, fmt.Errorf("check out the tests of commit %q: not a commit SHA (7 to 64 hex characters)", commit)
	}
	top, err := git(ctx, testDir, "rev-parse", "--show-toplevel")
	if errors.Is(err, exec.ErrNotFound) {
		return nil, fmt.Errorf("check out the tests of commit %s: %w", naming.ShortCommit(commit), err)
	}
	if err != nil {
		return nil, fmt.Errorf("check out the tests of commit %s: %q is not in a git checkout: run from a clone of the app's repository: %w", naming.ShortCommit(commit), testDir, err)
	}
	rel, err := filepath.Rel(top, testDir)
	if err != nil || strings.HasPrefix(rel, "..") {
		rel, err = relResolved(top, testDir)
		if err != nil {
			return nil, fmt.Errorf("check out the tests of commit %s: place the tests' directory %s in the repository %s: %w", naming.ShortCommit(commit), testDir, top, err)
		}
	}
	full, err := resolve(ctx, top, commit, log)
	if err != nil {
		return nil, err
	}
	parent, err := os.MkdirTemp("", "slipway-tests-"+full[:7]+"-")
	if err != nil {
		return nil, fmt.Errorf("check out the tests of commit %s: %w", full[:7], err)
	}
	dir := filepath.Join(parent, "src")
	if _, err := git(ctx, top, "worktree", "add", "--detach", "--quiet", dir, full); err != nil {
		_ = os.RemoveAll(parent) // nothing in it yet worth keeping
		return nil, fmt.Errorf("check out the tests of commit %s: %w", full[:7], err)
	}
	if log != nil {
		fmt.Fprintf(log, "integration: tests of commit %s checked out in %s\n", full[:7], dir)
	}
	return &Worktree{Commit: full, Dir: filepath.Join(dir, rel), repo: top, dir: dir, parent: parent}, nil
}

// relResolved is dir relative to top once symlinks are resolved (git
// prints the real path of the top level).
func relResolved(top, dir string) (string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(top, real)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", errors.New("the directory is outside the repository")
	}
	return rel, nil
}

// resolve returns the full SHA of commit, fetching it from origin when the
// repository does not have it.
func resolve(ctx context.Context, top, commit string, log io.Writer) (string, error) {
	if full, err := git(ctx, top, "rev-parse", "--verify", "--quiet", "--end-of-options", commit+"^{commit}"); err == nil {
		return full, nil
	}
	short := naming.ShortCommit(commit)
	if len(commit) < 40 {
		return "", fmt.Errorf("get the tests of commit %s: this checkout does not have it, and an abbreviated SHA cannot be fetched: fetch the release's history (git fetch origin; actions/checkout with fetch-depth: 0)", short)
	}
	args := []string{"fetch", "--quiet", "--no-tags", "--no-write-fetch-head"}
	if shallow, _ := git(ctx, top, "rev-parse", "--is-shallow-repository"); shallow == "true" {
		args = append(args, "--depth=1")
	}
	if log != nil {
		fmt.Fprintf(log, "integration: commit %s is not in this checkout: fetching it from origin\n", short)
	}
	if _, err := git(ctx, top, append(args, "origin", commit)...); err != nil {
		return "", fmt.Errorf("get the tests of commit %s: this checkout does not have it and fetching it from origin failed: fetch it (git fetch origin %s) or run from a clone that has it (actions/checkout with fetch-depth: 0): %w", short, commit, err)
	}
	full, err := git(ctx, top, "rev-parse", "--verify", "--quiet", "--end-of-options", commit+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("get the tests of commit %s: origin sent no such commit: fetch it (git fetch origin %s): %w", short, commit, err)
	}
	return full, nil
}

// Remove deletes the worktree and its directory, even after ctx ended.
func (w *Worktree) Remove() error {
	ctx, cancel := context.WithTimeout(context.Background(), gitTimeout)
	defer cancel()
	_, err := git(ctx, w.repo, "worktree", "remove", "--force", w.dir)
	if rerr := os.RemoveAll(w.parent); err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("remove the worktree of commit %s (%s): %w (git worktree prune tidies what is left)", w.Commit[:7], w.dir, err)
	}
	return nil
}

// git runs git in dir without a shell, never prompting for credentials,
// and returns its trimmed output or an error with git's message.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	return gitrepo.Run(ctx, dir, args...)
}
