package awsprov

import (
	"context"
	"maps"

	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/naming"
)

// PlanShared is what DeployShared would change in the shared stack, from
// a change set that is created, read and deleted (-diff): nothing runs.
func (p *Provider) PlanShared(ctx context.Context) (cfnstack.Plan, error) {
	name, err := naming.Shared(p.o.App)
	if err != nil {
		return cfnstack.Plan{}, err
	}
	params, err := p.o.Shared.Parameters()
	if err != nil {
		return cfnstack.Plan{}, err
	}
	return p.eng.Plan(ctx, sharedInput(name, p.o.App, params))
}

// PlanDeploy is what Deploy would change in s's stack (-diff): the same
// template, parameters and tags, at the rule priority and port the stack
// has or the ones free now, planned by a change set that is deleted again.
// Nothing is created: no secret is stored, so a DATABASE_URL is planned
// as the stack's current secret (a new stack's is made at deploy).
func (p *Provider) PlanDeploy(ctx context.Context, s deploy.Spec) (cfnstack.Plan, error) {
	shared, err := p.Shared(ctx)
	if err != nil {
		return cfnstack.Plan{}, err
	}
	app, err := p.appParams(ctx, s, shared)
	if err != nil {
		return cfnstack.Plan{}, err
	}
	existing, err := p.eng.Describe(ctx, s.Stack)
	if err != nil {
		return cfnstack.Plan{}, failure(err)
	}
	sl, release, err := p.allocate(ctx, s, existing, shared)
	if err != nil {
		return cfnstack.Plan{}, err
	}
	defer release()
	env := maps.Clone(s.Env)
	dbSecret := ""
	if _, ok := env[deploy.DatabaseURLEnv]; ok {
		delete(env, deploy.DatabaseURLEnv)
		dbSecret = existing.Params["DatabaseSecretArn"]
	}
	in, err := p.deployInput(s, app, env, dbSecret, shared, sl, existing, nextCommand(s))
	if err != nil {
		return cfnstack.Plan{}, err
	}
	return p.eng.Plan(ctx, in)
}
