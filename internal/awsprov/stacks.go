package awsprov

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/deploy"
)

// deployStacks lists this app's deploy stacks (not the shared one).
func (p *Provider) deployStacks(ctx context.Context) ([]cfnstack.Stack, error) {
	all, err := p.eng.List(ctx, map[string]string{TagApp: p.o.App})
	if err != nil {
		return nil, err
	}
	var out []cfnstack.Stack
	for _, s := range all {
		switch s.Tags[TagRole] {
		case deploy.RolePreview, deploy.RoleProduction, deploy.RoleCheck: // a check stack a dead run left is cleanup's to remove
			out = append(out, s)
		}
	}
	return out, nil
}

// Stacks lists this app's deploy stacks from their tags.
func (p *Provider) Stacks(ctx context.Context) ([]deploy.Stack, error) {
	stacks, err := p.deployStacks(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]deploy.Stack, 0, len(stacks))
	for _, s := range stacks {
		out = append(out, toStack(s))
	}
	rec, err := p.lastLive(ctx)
	if err != nil {
		return out, fmt.Errorf("read when stacks were live: %w", err)
	}
	withLastLive(out, rec)
	return out, nil
}

func toStack(s cfnstack.Stack) deploy.Stack {
	pr, _ := strconv.Atoi(s.Tags[TagPR]) // absent on production stacks: 0
	created, err := time.Parse(time.RFC3339, s.Tags[TagCreated])
	if err != nil {
		created = s.Created
	}
	st := deploy.Stack{
		Name: s.Name, Role: s.Tags[TagRole], PR: pr, Commit: s.Tags[TagCommit], Digest: s.Tags[TagDigest],
		Created: created, Healthy: s.State == cfnstack.StateHealthy, Status: string(s.Status), State: deploy.State(stateWord(s.State)),
		Busy: s.State.Busy(),
	}
	// A stack deployed without a database secret never used the database:
	// a release's migration cannot break it (read only when the stack's
	// parameters were read: without them it is unknown, and checked).
	if _, read := s.Params["Image"]; read {
		st.NoDatabase = s.Params["DatabaseSecretArn"] == ""
		st.MonthlyCost, st.CostKnown = infra.StackMonthlyCost(s.Params)
	}
	withLifecycle(&st, s)
	return st
}

// stateWord maps the engine's states onto the seam's.
func stateWord(s cfnstack.State) string {
	switch s {
	case cfnstack.StateReview:
		return string(deploy.StateCreating)
	case cfnstack.StateRollingBack:
		return string(deploy.StateUpdating)
	}
	return string(s)
}
