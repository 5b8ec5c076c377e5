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
// them. It turns termination protection off first.
func (p *Provider) DestroyShared(ctx context.Context) error {
	name, err := naming.Shared(p.o.App)
	if err != nil {
		return err
	}
	stacks, err := p.deployStacks(ctx)
	if err != nil {
		return err
	}
	if len(stacks) > 0 {
		names := make([]string, len(stacks))
		for i, s := range stacks {
			names[i] = s.Name
		}
		return fmt.Errorf("destroy shared stack %s: %d deploy stacks still use it: %s: destroy them first (go run mage.go preview:destroy -pr=N; production stacks with cleanup)", name, len(names), strings.Join(names, ", "))
	}
	st, err := p.eng.Describe(ctx, name)
	if err != nil || st.State == cfnstack.StateAbsent {
		return failure(err)
	}
	if st.TerminationProtection {
		if _, err := p.cfn.UpdateTerminationProtection(ctx, &cloudformation.UpdateTerminationProtectionInput{
			StackName: aws.String(st.ID), EnableTerminationProtection: aws.Bool(false),
		}); err != nil {
			return fmt.Errorf("turn off termination protection of %s: %w", name, err)
		}
	}
	res, err := p.eng.Delete(ctx, cfnstack.DeleteInput{Name: name, Next: "go run mage.go shared:destroy"})
	if err != nil {
		return failure(err)
	}
	for _, o := range res.Orphans {
		p.logf("%s: warning: resource %s (%s) was retained and still exists: delete it by hand", name, o.LogicalID, o.PhysicalID)
	}
	p.mu.Lock()
	p.shared, p.ensured = nil, false
	p.mu.Unlock()
	p.logf("%s: deleted", name)
	return nil
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
	res, err := p.eng.Upsert(ctx, cfnstack.Input{
		Name: name, Template: infra.SharedTemplate(), Parameters: paramMap(params),
		Tags:                  map[string]string{TagApp: p.o.App, TagRole: roleShared},
		Capabilities:          []cfntypes.Capability{cfntypes.CapabilityCapabilityIam, cfntypes.CapabilityCapabilityNamedIam},
		TerminationProtection: true,
		Next:                  "go run mage.go shared:deploy",
	})
	if err != nil {
		return failure(err)
	}
	p.logf("%s: %s", name, res.Action)
	return p.markShared(res.Stack)
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
	outs := make([]cfntypes.Output, 0, len(st.Outputs))
	for k, v := range st.Outputs {
		outs = append(outs, cfntypes.Output{OutputKey: aws.String(k), OutputValue: aws.String(v)})
	}
	s, err := infra.ParseSharedOutputs(outs)
	if err != nil {
		return fmt.Errorf("read shared stack %s: %w", st.Name, err)
	}
	p.mu.Lock()
	p.shared = &s
	p.mu.Unlock()
	return nil
}
