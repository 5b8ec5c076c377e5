package deploy

import (
	"context"
	"fmt"

	"github.com/slipway/slipway/internal/naming"
)

// PreviewSpec is the Spec DeployPreview would deploy for req, for a plan
// (-diff): the image is built (and pushed where the target pushes), and
// nothing else happens: no shared stack, database, stack, route or
// report. The preview's database URL is not in Env (the plan keeps the
// stack's current database secret).
func (f *Flow) PreviewSpec(ctx context.Context, req PreviewRequest) (Spec, error) {
	stack, host, err := f.previewNames(req)
	if err != nil {
		return Spec{}, err
	}
	purpose, err := naming.PreviewImageTag(req.PR, req.Branch)
	if err != nil {
		return Spec{}, err
	}
	img, err := f.Builder.Build(ctx, purpose)
	if err != nil {
		return Spec{}, fmt.Errorf("build image: %w", err)
	}
	return f.forApp(Spec{Stack: stack, Role: RolePreview, Image: img.Ref, Digest: img.Digest, Commit: img.Commit, Version: img.Version,
		PR: req.PR, Env: f.appEnv(false, req.Env), Branch: req.Branch, Host: host, Dirty: img.IsDirty(), Platform: img.Platform}), nil
}

// ReleaseSpec is the Spec ReleaseWith would deploy for req, for a plan
// (-diff): the guards apply, the image is built (and pushed), the new
// stack is named; nothing else happens (no lock, database, stack or
// traffic). A release's database URL is not in Env: the plan shows the
// stack without it.
func (f *Flow) ReleaseSpec(ctx context.Context, req ReleaseRequest) (Spec, error) {
	if err := req.Check(); err != nil {
		return Spec{}, err
	}
	img, err := f.Builder.Build(ctx, "release")
	if err != nil {
		return Spec{}, fmt.Errorf("build image: %w", err)
	}
	dirty := req.Dirty || img.IsDirty()
	if dirty && !req.AllowDirty {
		return Spec{}, fmt.Errorf("release: %w (image version %s): commit them, or pass -allowDirty (SLIPWAY_ALLOW_DIRTY=1)", ErrDirtyTree, img.Version)
	}
	stacks, err := f.Target.Stacks(ctx)
	if err != nil {
		return Spec{}, err
	}
	name, err := f.releaseName(stacks, img.Commit)
	if err != nil {
		return Spec{}, err
	}
	return f.forApp(Spec{Stack: name, Role: RoleProduction, Image: img.Ref, Digest: img.Digest, Commit: img.Commit, Version: img.Version,
		Env: f.appEnv(true, req.Env), Branch: req.Branch, Dirty: dirty, Platform: img.Platform}), nil
}
