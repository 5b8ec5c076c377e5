package awsprov

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/deploy"
)

// Stack tags the lifecycle reads (besides those of provider.go).
const (
	TagBranch = "slipway:branch"
	TagDirty  = "slipway:dirty"  // "true" when built from a dirty tree
	TagEnv    = "slipway:env"    // deploy.EnvHash of the app's environment
	TagState  = "slipway:state"  // "failed" once MarkFailed ran
	TagReason = "slipway:reason" // why it failed, shortened
)

// paramDesired is the deploy template's task count: 0 is a stack scaled
// to zero, which keeps its target group, rule and task definition.
const paramDesired = "DesiredCount"

// maxTagValue is CloudFormation's limit on a stack tag's value.
const maxTagValue = 256

// lifecycleTags are the tags Deploy adds for the lifecycle.
func lifecycleTags(s deploy.Spec) map[string]string {
	t := map[string]string{TagEnv: deploy.EnvHash(s.Env)}
	if b := tagValue(s.Branch); b != "" {
		t[TagBranch] = b
	}
	if s.Dirty {
		t[TagDirty] = "true"
	}
	return t
}

// tagValue makes s a tag value every resource the stack tags accepts:
// CloudFormation passes stack tags on to the target group, listener rule
// and ECS service, whose tags take letters, digits, spaces and _.:/=+-@
// only, at most 256 characters. Other characters become "-" (a branch
// name is shown, never used to find anything).
func tagValue(s string) string {
	out := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || strings.ContainsRune("_.:/=+-@", r) {
			return r
		}
		return '-'
	}, s)
	if len(out) > maxTagValue {
		out = strings.ToValidUTF8(out[:maxTagValue], "")
	}
	return strings.TrimSpace(out)
}

// withLifecycle fills what the lifecycle reads from a stack's tags and
// parameters.
func withLifecycle(st *deploy.Stack, s cfnstack.Stack) {
	st.Branch, st.Dirty, st.EnvHash = s.Tags[TagBranch], s.Tags[TagDirty] == "true", s.Tags[TagEnv]
	if s.Tags[TagState] == string(deploy.StateFailed) {
		st.State = deploy.StateFailed
	}
	if s.Params[paramDesired] == "0" {
		st.Scaled, st.Healthy = true, false
		st.Status += ", scaled to zero"
	}
}

// ScaleDown scales a stack that has no production traffic to zero tasks
// through its DesiredCount parameter, so the stack stays the truth (a later
// update keeps the count, and Stacks reads Scaled from the parameter with
// no ECS call). CloudFormation returns once ECS has drained and stopped the
// tasks; the target group, rule and task definition stay for ScaleUp.
func (p *Provider) ScaleDown(ctx context.Context, stack string) error {
	if err := p.refuseLive(ctx, "scale down", stack); err != nil {
		return err
	}
	if _, err := p.modify(ctx, stack, map[string]string{paramDesired: "0"}, nil); err != nil {
		return fmt.Errorf("scale down %s: %w", stack, err)
	}
	p.logf("%s: scaled to zero", stack)
	return nil
}

// ScaleUp gives a stack its task back (one, the count Deploy gives) and
// waits, bounded by the health timeout, until ECS runs it and the target
// group has a healthy target.
func (p *Provider) ScaleUp(ctx context.Context, stack string) error {
	shared, err := p.Shared(ctx)
	if err != nil {
		return err
	}
	st, err := p.modify(ctx, stack, map[string]string{paramDesired: "1"}, nil)
	if err != nil {
		return fmt.Errorf("scale up %s: %w", stack, err)
	}
	next := "go run mage.go status (production traffic is unchanged)"
	r := rollout{stack: stack, cluster: shared.ClusterName, service: st.Outputs[infra.OutputDeployServiceName], taskDef: st.Outputs[infra.OutputDeployTaskDefinition],
		targetGroup: st.Outputs[infra.OutputDeployTargetGroupARN], image: st.Params["Image"], next: next, logGroup: shared.LogGroupName}
	if err := p.verify(ctx, r); err != nil {
		return fmt.Errorf("scale up %s: %w", stack, err)
	}
	p.logf("%s: scaled up and healthy", stack)
	return nil
}

// MarkFailed tags a failed release stack slipway:state=failed (Stacks
// reads it back as StateFailed: never a rollback target, removed by
// cleanup) and scales it to zero in the same stack update; its logs stay in
// the shared log group.
func (p *Provider) MarkFailed(ctx context.Context, stack, reason string) error {
	if err := p.refuseLive(ctx, "mark failed", stack); err != nil {
		return err
	}
	line, _, _ := strings.Cut(reason, "\n")
	tags := map[string]string{TagState: string(deploy.StateFailed), TagReason: tagValue(line)}
	if _, err := p.modify(ctx, stack, map[string]string{paramDesired: "0"}, tags); err != nil {
		return fmt.Errorf("mark %s failed: %w", stack, err)
	}
	p.logf("%s: marked failed (%s)", stack, line)
	return nil
}

// modify changes a deploy stack's parameters and tags in place.
func (p *Provider) modify(ctx context.Context, stack string, params, tags map[string]string) (cfnstack.Stack, error) {
	st, err := p.eng.Describe(ctx, stack)
	if err != nil {
		return st, failure(err)
	}
	if st.State == cfnstack.StateAbsent {
		return st, fmt.Errorf("no stack %s: see `go run mage.go status`", stack)
	}
	if r := st.Tags[TagRole]; r != deploy.RoleProduction && r != deploy.RolePreview {
		return st, fmt.Errorf("%s is not a deploy stack of %s (role %q): refusing", stack, p.o.App, r)
	}
	st, err = p.eng.Modify(ctx, cfnstack.ModifyInput{Name: stack, Parameters: params, Tags: tags, Next: "go run mage.go status"})
	return st, failure(err)
}

func (p *Provider) refuseLive(ctx context.Context, what, stack string) error {
	live, err := p.isLive(ctx, stack)
	if err != nil {
		return err
	}
	if live {
		return fmt.Errorf("%s %s: %w: move traffic to another stack first", what, stack, deploy.ErrLive)
	}
	return nil
}
