package local

import (
	"context"
	"sort"
	"time"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/router"
)

// withLastLive says when each production stack last had traffic: now for a
// live one, else the router's record (last_live in GET /table, kept on
// every accepted table write, and kept for a stack scaled to zero because
// every write sends its key back until Delete drops it). Where the router
// has no record (a router without last_live, or one whose record was lost)
// it is derived: the stack was live until the next newer production stack
// in good standing was created; the newest one that never had traffic
// stays "new".
func (p *Provider) withLastLive(ctx context.Context, stacks []deploy.Stack) []deploy.Stack {
	recorded := p.recordedLastLive(ctx)
	live := map[string]bool{}
	if r, err := p.Routes(ctx); err == nil {
		for _, s := range r.Live() {
			live[s] = true
		}
	}
	var prod []int
	for i, s := range stacks {
		if s.Role == deploy.RoleProduction && s.State != deploy.StateFailed {
			prod = append(prod, i)
		}
	}
	sort.Slice(prod, func(a, b int) bool {
		x, y := stacks[prod[a]], stacks[prod[b]]
		if !x.Created.Equal(y.Created) { // labels have whole seconds: the name's release time breaks ties
			return x.Created.Before(y.Created)
		}
		return x.Name < y.Name
	})
	now := time.Now().UTC()
	for k, i := range prod {
		switch at, ok := recorded[stacks[i].Name]; {
		case live[stacks[i].Name]:
			stacks[i].LastLive = now
		case ok && !at.IsZero():
			stacks[i].LastLive = at
		case k+1 < len(prod) && (stacks[i].Scaled || recorded == nil):
			stacks[i].LastLive = stacks[prod[k+1]].Created
		}
	}
	return stacks
}

// pruneLastLive leaves out of t the last_live keys of stacks that have no
// container left (removed by hand while scaled to zero: Delete drops the
// record itself), so the router drops their records with this write, as
// the aws target drops the records of deleted stacks at the next shift.
func (p *Provider) pruneLastLive(ctx context.Context, t *router.Table) error {
	if len(t.LastLive) == 0 {
		return nil
	}
	ins, err := p.instances(ctx)
	if err != nil {
		return err
	}
	exists := map[string]bool{}
	for _, in := range ins {
		exists[in.Stack] = true
	}
	for stack := range t.LastLive {
		if !exists[stack] {
			delete(t.LastLive, stack)
		}
	}
	return nil
}

// recordedLastLive reads the router's last_live record; nil when the
// router is down.
func (p *Provider) recordedLastLive(ctx context.Context) map[string]time.Time {
	t, err := p.router.Table(ctx)
	if err != nil {
		return nil
	}
	return t.LastLive
}
