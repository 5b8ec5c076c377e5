package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slipway/slipway/internal/naming"
)

// ReleaseResult is a release as deployed.
type ReleaseResult struct {
	Stack     string
	Previous  []string // stacks that had traffic before, kept for rollback
	URL       string
	StackURL  string // the new stack's own URL (Stack.URL), "" when the target gives none
	Image     Image
	Tests     TestResult
	Unchanged bool    // production already runs this image with this environment
	Timing    *Timing // where the time went
}

// ReleaseRequest is what to release and what the checkout looks like.
type ReleaseRequest struct {
	Env           map[string]string
	Branch        string // checked-out branch ("" when unknown or detached)
	DefaultBranch string // the repository's default branch ("" when unknown)
	Dirty         bool   // the working tree has uncommitted changes
	AllowBranch   bool   // -allowBranch / SLIPWAY_ALLOW_BRANCH
	AllowDirty    bool   // -allowDirty / SLIPWAY_ALLOW_DIRTY
}

// Errors of the release guards.
var (
	ErrDirtyTree   = errors.New("the working tree has uncommitted changes")
	ErrOtherBranch = errors.New("not the default branch")
)

// Check applies the release guards: unreviewed code does not reach
// production without an explicit choice.
func (r ReleaseRequest) Check() error {
	if r.Dirty && !r.AllowDirty {
		return fmt.Errorf("release: %w: commit or stash them, or release them anyway with -allowDirty (SLIPWAY_ALLOW_DIRTY=1); the stack is then marked dirty", ErrDirtyTree)
	}
	if r.Branch != "" && r.DefaultBranch != "" && r.Branch != r.DefaultBranch && !r.AllowBranch {
		return fmt.Errorf("release: %w: %s is checked out, production follows %s; merge it, or release this branch anyway with -allowBranch (SLIPWAY_ALLOW_BRANCH=1)", ErrOtherBranch, r.Branch, r.DefaultBranch)
	}
	return nil
}

// Release is ReleaseWith with the guards waived, for the demo and tests.
func (f *Flow) Release(ctx context.Context, env map[string]string) (ReleaseResult, error) {
	return f.ReleaseWith(ctx, ReleaseRequest{Env: env, AllowBranch: true, AllowDirty: true})
}

// ReleaseWith deploys a NEW production stack (blue/green), tests it at its
// own URL (else through the stack header) before it gets any traffic, and
// only then moves
// production traffic to it, all at once or by the canary strategy. The
// previous stacks are kept for rollback. When anything fails, production
// routing is left exactly as it was, and a stack that failed its tests or
// its canary is marked failed. It holds the app's lock throughout.
func (f *Flow) ReleaseWith(ctx context.Context, req ReleaseRequest) (ReleaseResult, error) {
	if err := req.Check(); err != nil {
		return ReleaseResult{}, err
	}
	var res ReleaseResult
	ctx, tm := f.startTimer(ctx)
	err := f.locked(ctx, "release", func(ctx context.Context) error {
		var err error
		res, err = f.release(ctx, tm, req)
		return err
	})
	res.Timing = tm.done("release", res.Stack)
	if err != nil && ctx.Err() != nil {
		return res, interrupted("release", res.Stack, err)
	}
	return res, err
}

// ErrInterrupted is an operation stopped by its caller (Ctrl-C, a cancelled
// job) rather than failed.
var ErrInterrupted = errors.New("interrupted")

// interrupted says that op on stack was stopped, not that it failed, and
// keeps the cause for errors.Is.
func interrupted(op, stack string, cause error) error {
	what := op
	if stack != "" {
		what += " " + stack
	}
	return fmt.Errorf("%s %w (Ctrl-C or a cancelled job): production routing is as it was before; `go run mage.go cleanup` removes what it left: %w", what, ErrInterrupted, cause)
}

func (f *Flow) release(ctx context.Context, tm *timer, req ReleaseRequest) (ReleaseResult, error) {
	img, err := f.build(ctx, tm, "release")
	if err != nil {
		return ReleaseResult{}, err
	}
	dirty := req.Dirty || img.IsDirty()
	if dirty && !req.AllowDirty {
		return ReleaseResult{}, fmt.Errorf("release: %w (image version %s): commit them, or pass -allowDirty (SLIPWAY_ALLOW_DIRTY=1)", ErrDirtyTree, img.Version)
	}
	if err := f.Target.EnsureShared(ctx); err != nil {
		return ReleaseResult{}, fmt.Errorf("ensure shared stack: %w", err)
	}
	routes, err := f.Target.Routes(ctx)
	if err != nil {
		return ReleaseResult{}, err
	}
	stacks, err := f.Target.Stacks(ctx)
	if err != nil {
		return ReleaseResult{}, err
	}
	res := ReleaseResult{Previous: routes.Live(), Image: img}
	env, err := f.releaseEnv(ctx, f.appEnv(true, req.Env))
	if err != nil {
		return res, err
	}
	if same := liveRuns(stacks, routes, img, env, dirty); same != "" {
		res.Stack, res.Unchanged = same, true
		f.logf("release: production already runs %s with this environment in %s: nothing to do", shortRef(img.Digest), same)
		return res, nil
	}
	if res.Stack, err = f.releaseName(stacks, img.Commit); err != nil {
		return res, err
	}
	if err := tm.phaseIf(f.Database, PhaseDatabase, func() error {
		return f.releaseDatabase(ctx, img, res.Stack, stacks, res.Previous, env)
	}); err != nil {
		return res, err
	}
	spec := f.forApp(Spec{Stack: res.Stack, Role: RoleProduction, Image: img.Ref, Digest: img.Digest, Commit: img.Commit, Version: img.Version,
		Env: env, Branch: req.Branch, Dirty: dirty, Platform: img.Platform})
	var st Stack
	if err := tm.phase(PhaseStack, func() (err error) { st, err = f.Target.Deploy(ctx, spec); return err }); err != nil {
		return res, fmt.Errorf("release %s (production traffic unchanged): %w", res.Stack, err)
	}
	if res.StackURL = st.URL; res.StackURL != "" {
		f.logf("release: %s: its own URL is %s (any client, no DNS or Host header)", res.Stack, res.StackURL)
	}
	if err := tm.phase(PhaseTests, func() (err error) { res.Tests, err = f.testRelease(ctx, res.Stack, res.StackURL, img); return err }); err != nil {
		f.markFailed(ctx, res.Stack, err.Error())
		return res, err
	}
	if err := tm.phaseOf(f.shiftPhase(routes.Production), func() error { return f.shift(ctx, res.Stack, routes.Production) }); err != nil {
		return res, err
	}
	res.URL = f.Routing.URL(f.productionHost())
	f.logf("release: %s now takes all production traffic (kept for rollback: %s)", res.Stack, list(res.Previous))
	return res, nil
}

// testRelease runs the tests against a candidate with no traffic yet: at
// its own URL, else through the production URL with the stack header.
func (f *Flow) testRelease(ctx context.Context, stack, ownURL string, img Image) (TestResult, error) {
	tt := f.testTarget(stack, ownURL, f.productionHost(), true)
	tt.Commit, tt.Database, tt.Production = img.Commit, f.Database, true
	tr, err := f.Tester.Test(ctx, tt)
	if err != nil {
		return tr, fmt.Errorf("test %s (production traffic unchanged): %w", stack, err)
	}
	f.logf("%s", tr.Summary)
	if !tr.OK {
		return tr, fmt.Errorf("release %s (production traffic unchanged): %w (%s)", stack, ErrTestsFailed, tr.Summary)
	}
	return tr, nil
}

// markFailed records a failed (or interrupted) release stack on the
// target, so it is never a rollback target and cleanup removes it.
func (f *Flow) markFailed(ctx context.Context, stack, reason string) {
	what := "failed"
	if ctx.Err() != nil {
		what, reason = "interrupted", "interrupted: "+reason
	}
	if err := f.Target.MarkFailed(context.WithoutCancel(ctx), stack, reason); err != nil {
		f.logf("release: warning: mark %s %s: %v", stack, what, err)
		return
	}
	f.logf("release: %s %s: marked so it is no rollback target, and cleanup removes it", stack, what)
}

// releaseName is a new production stack name, unique even when another
// release started in the same second.
func (f *Flow) releaseName(stacks []Stack, commit string) (string, error) {
	base, err := naming.Release(f.App, f.now(), commit)
	if err != nil {
		return "", err
	}
	taken := map[string]bool{}
	for _, s := range stacks {
		taken[s.Name] = true
	}
	name := base
	for i := 2; taken[name]; i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	if !naming.ValidStack(name) {
		return "", fmt.Errorf("name release: %q is not a valid stack name", name)
	}
	return name, nil
}

func (f *Flow) productionHost() string { return f.Routing.ProductionHost() }

// liveRuns returns the live stack already running img with env, if
// production is a single healthy stack with all the traffic.
func liveRuns(stacks []Stack, r Routes, img Image, env map[string]string, dirty bool) string {
	live := r.Live()
	if len(live) != 1 {
		return ""
	}
	for _, s := range stacks {
		if s.Name == live[0] && s.Digest == img.Digest && s.Commit == img.Commit && s.Healthy &&
			s.EnvHash == EnvHash(env) && s.Dirty == dirty {
			return s.Name
		}
	}
	return ""
}

// IsDirty says whether the image was built from a working tree with
// uncommitted changes (`git describe --dirty` marks its version).
func (i Image) IsDirty() bool { return strings.HasSuffix(i.Version, "-dirty") }

func shortRef(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}
