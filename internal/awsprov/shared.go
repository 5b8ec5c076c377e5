package awsprov

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

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
