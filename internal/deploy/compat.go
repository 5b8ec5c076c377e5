package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slipway/slipway/internal/naming"
)

// The schema-compat check (issue 11): once a preview's database is cloned
// and migrated to the PR's head, the image of the live production stack
// (the release the PR would be merged on top of) runs as a short-lived
// extra stack <preview>-compat on that database, and its own integration
// tests (as they are at its commit, not as the PR may have changed them:
// CommitTester) say whether it still works on the PR's schema. The outcome is reported as
// the commit status slipway/schema-compat; it never fails the preview
// deploy itself: branch protection decides whether it must pass.

// CompatStatus is the outcome of the schema-compat check.
type CompatStatus string

// Schema-compat outcomes.
const (
	CompatPending CompatStatus = "pending" // running
	CompatPassed  CompatStatus = "passed"  // the release passes on the PR's schema, or there is no release
	CompatFailed  CompatStatus = "failed"  // the release's tests fail on the PR's schema
	CompatError   CompatStatus = "error"   // no verdict: the check could not run (Reason says why)
)

// CommitTester runs the integration tests as they are at commit, not as
// they are in the checkout: the schema-compat check judges the live release
// by its own tests, which the PR may have changed. A Tester without it gets
// no verdict from the check, never a pass.
type CommitTester interface {
	TestCommit(ctx context.Context, commit string, t TestTarget) (TestResult, error)
}

// CompatCheck is the schema-compat check of one preview.
type CompatCheck struct {
	Status  CompatStatus
	Release string // the live stack whose image ran; "" when there is no release
	Commit  string // its commit
	Schema  int64  // the preview database's schema it ran on
	Tests   *TestResult
	Reason  string // why there is no verdict (CompatError)
}

// ErrSchemaCompat is a preview that is up, whose schema-compat check
// failed (the live release fails its tests on the PR's schema): the
// command fails so the check is not missed.
var ErrSchemaCompat = errors.New("slipway/schema-compat did not pass")

// err is the check's outcome as the command's error: nil when it passed.
func (c CompatCheck) err(stack string) error {
	switch c.Status {
	case CompatFailed:
		return fmt.Errorf("preview %s is up for review, but %w: the live release %s fails its own tests on this pull request's schema %d (%s): make the migration additive (expand), and drop what the release still uses in a later contract migration",
			stack, ErrSchemaCompat, c.Release, c.Schema, strings.Join(c.Failing(), ", "))
	}
	return nil // no verdict (CompatError) is the check's own status on the pull request, not a failure of the preview
}

// Failing names the tests that failed, in order.
func (c CompatCheck) Failing() []string {
	if c.Tests == nil {
		return nil
	}
	out := make([]string, 0, len(c.Tests.Failures))
	for _, f := range c.Tests.Failures {
		name, _, _ := strings.Cut(f, ":")
		out = append(out, strings.TrimSpace(name))
	}
	return out
}

// Bounds of the check: the whole check (deploy, health, tests), and the
// removal of its stack, which runs even after Ctrl-C. A compat stack older
// than CompatLeftoverAge is left over from a run that died: cleanup
// deletes it.
const (
	CompatTimeout        = 10 * time.Minute
	compatRemoveTimeout  = 2 * time.Minute
	CompatLeftoverAge    = CompatTimeout + compatRemoveTimeout + 5*time.Minute
	compatSuffix         = "-compat"
	compatNotMigratedWhy = "the preview's database was not migrated, so there was nothing to check"
)

// CompatStack is the name of the schema-compat stack of pull request pr.
func CompatStack(app string, pr int) (string, error) {
	s, err := naming.Preview(app, pr)
	if err != nil {
		return "", err
	}
	name := s + compatSuffix
	if !naming.ValidStack(name) {
		return "", fmt.Errorf("schema-compat stack name %q is not a valid stack name", name)
	}
	return name, nil
}

// isCompatStack says whether s is a schema-compat stack (not a branch
// preview whose branch happens to end in "-compat").
func isCompatStack(app string, s Stack) bool {
	if s.Role != RolePreview || s.PR <= 0 {
		return false
	}
	name, err := CompatStack(app, s.PR)
	return err == nil && s.Name == name
}

// compatAction is cleanup's decision on a schema-compat stack: it lives for
// one check only, so an old one was left behind by a run that died.
func compatAction(s Stack, now time.Time) (string, string) {
	if now.Sub(s.Created) > CompatLeftoverAge {
		return ActionDelete, fmt.Sprintf("schema-compat check of #%d left behind (older than %s)", s.PR, age(CompatLeftoverAge))
	}
	return ActionKeep, fmt.Sprintf("schema-compat check of #%d running", s.PR)
}

// schemaCompat runs the check for a preview whose database pdb was
// migrated; env is the preview's environment (its DATABASE_URL included).
// It never returns nil when pdb is set.
func (f *Flow) schemaCompat(ctx context.Context, pr int, host string, pdb *PreviewDB, env map[string]string) *CompatCheck {
	if pdb == nil {
		return nil
	}
	c := &CompatCheck{Schema: pdb.Head}
	if ctx.Err() != nil {
		c.Status, c.Reason = CompatError, "the deploy was cancelled"
		return c
	}
	live, err := f.liveRelease(ctx)
	switch {
	case err != nil:
		c.Status, c.Reason = CompatError, err.Error()
		return c
	case live.Name == "":
		c.Status = CompatPassed
		f.logf("schema-compat: no release to check against")
		return c
	}
	c.Release, c.Commit = live.Name, live.Commit
	if live.Image == "" {
		c.Status, c.Reason = CompatError, fmt.Sprintf("the live stack %s does not say which image it runs: release again to check", live.Name)
		return c
	}
	tester, why := f.releaseTester(live)
	if why != "" {
		c.Status, c.Reason = CompatError, why
		return c
	}
	name, err := CompatStack(f.App, pr)
	if err != nil {
		c.Status, c.Reason = CompatError, err.Error()
		return c
	}
	f.logf("schema-compat: running release %s's image as %s on %s (schema %d), judged by its own tests (commit %s)", live.Name, name, pdb.Name, pdb.Head, naming.ShortCommit(live.Commit))
	tr, err := f.runCompat(ctx, tester, name, host, live, f.forApp(Spec{Stack: name, Role: RolePreview, Image: live.Image, Digest: live.Digest, Commit: live.Commit, PR: pr, Env: env}))
	if err != nil {
		c.Status, c.Reason = CompatError, err.Error()
		f.logf("schema-compat: no verdict: %v", err)
		return c
	}
	c.Tests = &tr
	c.Status = CompatPassed
	if !tr.OK {
		c.Status = CompatFailed
	}
	f.logf("schema-compat: release %s %s on schema %d: %s", live.Name, map[bool]string{true: "passes", false: "fails"}[tr.OK], pdb.Head, tr.Summary)
	return c
}

// releaseTester is what runs the live release's own tests, or why nothing
// can.
func (f *Flow) releaseTester(live Stack) (CommitTester, string) {
	if live.Commit == "" {
		return nil, fmt.Sprintf("the live stack %s does not say which commit it was built from, so its own tests cannot run: release again to check", live.Name)
	}
	t, ok := f.Tester.(CommitTester)
	if !ok {
		return nil, fmt.Sprintf("this run's tester (%T) cannot run the tests of release %s's commit %s, and the checkout's tests may differ from them: run the check with the integration tester", f.Tester, live.Name, naming.ShortCommit(live.Commit))
	}
	return t, ""
}

// runCompat deploys the extra stack, tests it with the release's own tests
// at its own URL (else through the stack header) and deletes it on every
// path, within its bounds.
func (f *Flow) runCompat(ctx context.Context, tester CommitTester, name, host string, live Stack, spec Spec) (TestResult, error) {
	ctx, cancel := context.WithTimeout(ctx, CompatTimeout)
	defer cancel()
	defer f.removeCompat(ctx, name)
	st, err := f.Target.Deploy(ctx, spec)
	if err != nil {
		return TestResult{}, fmt.Errorf("start release %s on the preview's database: %w", live.Name, err)
	}
	tt := f.testTarget(name, st.URL, host, true)
	tt.Commit, tt.Database = live.Commit, true
	tr, err := tester.TestCommit(ctx, live.Commit, tt)
	if err != nil {
		return TestResult{}, fmt.Errorf("test release %s on the preview's database: %w", live.Name, err)
	}
	return tr, nil
}

// removeCompat deletes the schema-compat stack, even after ctx ended
// (Ctrl-C), within compatRemoveTimeout; a failure is said, and cleanup
// removes what is left.
func (f *Flow) removeCompat(ctx context.Context, name string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), compatRemoveTimeout)
	defer cancel()
	if err := f.Target.Delete(ctx, name); err != nil {
		f.logf("warning: delete the schema-compat stack %s: %v (run `go run mage.go cleanup` to remove it)", name, err)
		return
	}
	f.logf("schema-compat: deleted %s", name)
}

// liveRelease is the production stack with the most traffic: the release
// a merged PR would be released on top of. Name is "" when none is live.
func (f *Flow) liveRelease(ctx context.Context) (Stack, error) {
	routes, err := f.Target.Routes(ctx)
	if err != nil {
		return Stack{}, fmt.Errorf("read production's routing: %w", err)
	}
	best, weight := "", 0
	for _, w := range routes.Production {
		if w.Weight > weight {
			best, weight = w.Stack, w.Weight
		}
	}
	if best == "" {
		return Stack{}, nil
	}
	stacks, err := f.Target.Stacks(ctx)
	if err != nil {
		return Stack{}, fmt.Errorf("list stacks: %w", err)
	}
	for _, s := range stacks {
		if s.Name == best {
			return s, nil
		}
	}
	return Stack{}, fmt.Errorf("the live stack %s is not among the stacks", best)
}

// deleteCompat removes a PR's schema-compat stack when its preview is
// destroyed (gone already is fine). Without the database there is none.
func (f *Flow) deleteCompat(ctx context.Context, pr int) error {
	if !f.Database || pr <= 0 {
		return nil
	}
	name, err := CompatStack(f.App, pr)
	if err != nil {
		return err
	}
	return f.Target.Delete(ctx, name)
}
