package awsprov

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/naming"
)

// DestroyShared deletes the shared stack, refusing while any deploy stack
// of the app exists (they run on its cluster, behind its ALB) and naming
// them. It turns termination protection off first, and returns what the
// stack leaves on purpose (the ECR repository, a database's snapshot).
func (p *Provider) DestroyShared(ctx context.Context) ([]Kept, error) {
	name, err := naming.Shared(p.o.App)
	if err != nil {
		return nil, err
	}
	stacks, err := p.deployStacks(ctx)
	if err != nil {
		return nil, err
	}
	if len(stacks) > 0 {
		names := make([]string, len(stacks))
		for i, s := range stacks {
			names[i] = s.Name
		}
		return nil, fmt.Errorf("destroy shared stack %s: %d deploy stacks still use it: %s: to remove the whole app, production included, run `go run mage.go destroy -app=%s`; a single preview goes with `go run mage.go preview:destroy -pr=N`",
			name, len(names), strings.Join(names, ", "), p.o.App)
	}
	st, err := p.eng.Describe(ctx, name)
	if err != nil {
		return nil, failure(err)
	}
	if st.State == cfnstack.StateAbsent {
		p.logf("%s: no such stack: nothing to delete", name)
		return nil, nil
	}
	outs, err := sharedOutputs(st)
	if err != nil { // a stack that never came up: its repository may exist all the same
		outs = infra.SharedOutputs{RepositoryName: p.repositoryName()}
	}
	kept := p.kept(ctx, outs)
	if st.TerminationProtection {
		if _, err := p.cfn.UpdateTerminationProtection(ctx, &cloudformation.UpdateTerminationProtectionInput{
			StackName: aws.String(st.ID), EnableTerminationProtection: aws.Bool(false),
		}); err != nil {
			return nil, fmt.Errorf("turn off termination protection of %s: %w", name, err)
		}
	}
	res, err := p.eng.Delete(ctx, cfnstack.DeleteInput{Name: name, Next: "go run mage.go shared:destroy"})
	if err != nil {
		return nil, failure(err)
	}
	for _, o := range res.Orphans {
		p.logf("%s: warning: resource %s (%s) was retained and still exists: delete it by hand", name, o.LogicalID, o.PhysicalID)
	}
	p.mu.Lock()
	p.shared, p.ensured = nil, false
	p.mu.Unlock()
	p.logf("%s: deleted", name)
	return kept, nil
}

// EnsureShared makes sure the shared stack is there, once per process:
// a healthy shared stack is only read (the preview role may not change it;
// settings change through DeployShared), an absent or failed one is
// created.
func (p *Provider) EnsureShared(ctx context.Context) error {
	p.mu.Lock()
	done := p.ensured
	p.mu.Unlock()
	if done {
		return nil
	}
	name, err := naming.Shared(p.o.App)
	if err != nil {
		return err
	}
	st, err := p.eng.Describe(ctx, name)
	if err != nil {
		return failure(err)
	}
	if st.State == cfnstack.StateHealthy || st.State == cfnstack.StateRolledBack {
		return p.markShared(st)
	}
	return p.DeployShared(ctx)
}

// DeployShared creates or updates the shared stack (termination
// protection on) with the configured settings and reads its outputs.
func (p *Provider) DeployShared(ctx context.Context) error {
	name, err := naming.Shared(p.o.App)
	if err != nil {
		return err
	}
	params, err := p.o.Shared.Parameters()
	if err != nil {
		return err
	}
	if err := p.checkRepository(ctx, name); err != nil {
		return err
	}
	res, err := p.eng.Upsert(ctx, sharedInput(name, p.o.App, params))
	if err != nil {
		return p.repositoryFailure(ctx, name, failure(err))
	}
	p.logf("%s: %s", name, res.Action)
	return p.markShared(res.Stack)
}

// sharedInput is what DeployShared upserts (and PlanShared plans).
func sharedInput(name, app string, params []cfntypes.Parameter) cfnstack.Input {
	return cfnstack.Input{
		Name: name, Template: infra.SharedTemplate(), Parameters: paramMap(params),
		Tags:                  map[string]string{TagApp: app, TagRole: roleShared},
		Capabilities:          []cfntypes.Capability{cfntypes.CapabilityCapabilityIam, cfntypes.CapabilityCapabilityNamedIam},
		TerminationProtection: true,
		Next:                  "go run mage.go shared:deploy",
	}
}

func (p *Provider) markShared(st cfnstack.Stack) error {
	if err := p.setShared(st); err != nil {
		return err
	}
	p.mu.Lock()
	p.ensured = true
	p.mu.Unlock()
	return nil
}

// Shared returns the shared stack's outputs, read once per provider.
func (p *Provider) Shared(ctx context.Context) (infra.SharedOutputs, error) {
	p.mu.Lock()
	s := p.shared
	p.mu.Unlock()
	if s != nil {
		return *s, nil
	}
	name, err := naming.Shared(p.o.App)
	if err != nil {
		return infra.SharedOutputs{}, err
	}
	st, err := p.eng.Describe(ctx, name)
	if err != nil {
		return infra.SharedOutputs{}, failure(err)
	}
	if st.State == cfnstack.StateAbsent {
		return infra.SharedOutputs{}, fmt.Errorf("shared stack %s does not exist: run `go run mage.go shared:deploy` first: %w", name, errNoShared)
	}
	if err := p.setShared(st); err != nil {
		return infra.SharedOutputs{}, err
	}
	return *p.shared, nil
}

func (p *Provider) setShared(st cfnstack.Stack) error {
	s, err := sharedOutputs(st)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.shared = &s
	p.mu.Unlock()
	return nil
}

// sharedOutputs reads a shared stack's outputs.
func sharedOutputs(st cfnstack.Stack) (infra.SharedOutputs, error) {
	outs := make([]cfntypes.Output, 0, len(st.Outputs))
	for k, v := range st.Outputs {
		outs = append(outs, cfntypes.Output{OutputKey: aws.String(k), OutputValue: aws.String(v)})
	}
	s, err := infra.ParseSharedOutputs(outs)
	if err != nil {
		return s, fmt.Errorf("read shared stack %s: %w", st.Name, err)
	}
	return s, nil
}
