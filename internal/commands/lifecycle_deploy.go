package commands

import (
	"context"
	"fmt"
	"os"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/config"
	"github.com/slipway/slipway/internal/github"
)

// Deploy does what the checkout or the Actions event calls for: a preview
// on a pull request (or a branch with one), a release on the default
// branch, the destroy on a closed pull request. It prints which and why.
func Deploy(ctx context.Context) error {
	lc, err := config.LoadLifecycle(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	dir, err := build.ModuleDir()
	if err != nil {
		return err
	}
	gh, derr := github.Detect(ctx, os.Getenv, github.Request{})
	if derr != nil && gh.Actions {
		annotate(derr)
		return fmt.Errorf("deploy: read the GitHub event: %w", derr)
	}
	if gh.Branch == "" {
		gh.Branch = currentBranch(ctx, dir)
	}
	def := lc.DefaultBranch
	if def == "" {
		def = gh.DefaultBranch
	}
	if def == "" {
		def = defaultBranch(ctx, dir, lc)
	}
	kind, why := decideDeploy(gh, def)
	fmt.Fprintf(os.Stderr, "deploy: %s, because %s\n", kind, why)
	switch kind {
	case github.DeployPreview:
		return PreviewDeploy(ctx, nil)
	case github.DestroyPreview:
		return PreviewDestroy(ctx, nil)
	case github.Release:
		return ReleaseGuarded(ctx, nil, nil)
	case github.Cleanup:
		return Cleanup(ctx, nil)
	}
	return nil
}

// decideDeploy is what `deploy` does for a context: in Actions what the
// event asks for; on a laptop a release on the default branch, else the
// preview of the branch's pull request, else of the branch itself.
func decideDeploy(gh github.Context, defaultBranch string) (github.Kind, string) {
	if gh.Source == github.SourceEvent {
		d := gh.Action()
		return d.Kind, d.Reason
	}
	switch {
	case gh.Branch == "":
		return github.Ignore, "HEAD is not on a branch: check out a branch, or run `release` or `preview:deploy -pr=N` explicitly"
	case gh.Branch == defaultBranch:
		return github.Release, fmt.Sprintf("%s is the default branch", gh.Branch)
	case gh.PR > 0 && gh.State == "closed":
		return github.DestroyPreview, fmt.Sprintf("pull request #%d of branch %s is closed", gh.PR, gh.Branch)
	case gh.PR > 0:
		return github.DeployPreview, fmt.Sprintf("branch %s has pull request #%d", gh.Branch, gh.PR)
	}
	return github.DeployPreview, fmt.Sprintf("branch %s has no pull request: a branch preview", gh.Branch)
}

// PreviewDestroyTarget destroys a preview by pull request or branch, or by
// its stack name (a branch preview whose branch is gone).
func PreviewDestroyTarget(ctx context.Context, prArg, stack *string) error {
	pr, err := prFlag(prArg)
	if err != nil {
		return fmt.Errorf("preview:destroy: %w", err)
	}
	if stack == nil || *stack == "" {
		return PreviewDestroy(ctx, pr)
	}
	if pr != nil {
		return fmt.Errorf("preview:destroy: pass -pr or -stack, not both")
	}
	return with(ctx, func(s *Session) error {
		return s.Flow.DestroyStack(ctx, *stack)
	})
}
