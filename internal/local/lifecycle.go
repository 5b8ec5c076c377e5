package local

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/router"
)

// Labels the lifecycle adds to a stack's containers.
const (
	LabelBranch = "dev.slipway.branch"
	LabelDirty  = "dev.slipway.dirty"
	LabelEnv    = "dev.slipway.env"

	failedSuffix = "-failed" // a failed release's container is renamed with it
)

func addLifecycleLabels(l map[string]string, s deploy.Spec) {
	l[LabelEnv] = deploy.EnvHash(s.Env)
	if s.Branch != "" {
		l[LabelBranch] = s.Branch
	}
	if s.Dirty {
		l[LabelDirty] = "true"
	}
}

// withLifecycle fills what the lifecycle reads from an instance's labels,
// name and state.
func withLifecycle(st *deploy.Stack, in instance) {
	st.Branch, st.Dirty, st.EnvHash = in.Labels[LabelBranch], in.Labels[LabelDirty] == "true", in.Labels[LabelEnv]
	switch {
	case strings.HasSuffix(in.Name, failedSuffix):
		st.State = deploy.StateFailed
	case st.Role == deploy.RoleProduction && in.State != "running":
		st.Scaled = true // stopped by ScaleDown (or it crashed): ScaleUp starts it again
	}
}

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

// ScaleDown drains a stack that has no traffic and stops its containers,
// keeping them (and their labels) so ScaleUp can start them again, and the
// router's record of when it was last live, which cleanup and rollback
// read.
func (p *Provider) ScaleDown(ctx context.Context, stack string) error {
	mine, names, err := p.instancesOf(ctx, stack)
	if err != nil || len(mine) == 0 {
		return err
	}
	if err := p.unregisterIdle(ctx, stack, names, true); err != nil {
		return fmt.Errorf("scale down %s: %w", stack, err)
	}
	p.waitDrained(ctx, mine)
	stop := int(p.o.DrainTimeout / time.Second)
	for _, in := range mine {
		if in.State != "running" {
			continue
		}
		if err := p.d.ContainerStop(ctx, in.ID, container.StopOptions{Timeout: &stop}); err != nil {
			return fmt.Errorf("scale down %s: stop %s: %w", stack, in.Name, err)
		}
	}
	p.logf("%s: scaled to zero", stack)
	return nil
}

// ScaleUp starts a stack's newest container again, registers it with the
// router (without traffic) and waits until it is healthy.
func (p *Provider) ScaleUp(ctx context.Context, stack string) error {
	mine, _, err := p.instancesOf(ctx, stack)
	if err != nil {
		return err
	}
	if len(mine) == 0 {
		return fmt.Errorf("scale up %s: no container of that stack", stack)
	}
	in := mine[0]
	if in.State != "running" {
		p.logf("%s: starting %s again", stack, in.Name)
		if err := p.d.ContainerStart(ctx, in.ID, container.StartOptions{}); err != nil {
			return fmt.Errorf("scale up %s: start %s: %w", stack, in.Name, err)
		}
	}
	if err := p.addTarget(ctx, stack, in.Name); err != nil {
		return fmt.Errorf("scale up %s: %w", stack, err)
	}
	return p.waitHealthy(ctx, stack, in.Name, in.ID)
}

// renamer is the Docker call MarkFailed needs.
type renamer interface {
	ContainerRename(ctx context.Context, id, newName string) error
}

// MarkFailed takes a failed release stack out of the router, stops it and
// renames its containers with a -failed suffix: labels cannot change, a
// name can, and the logs stay for a look until cleanup removes it.
func (p *Provider) MarkFailed(ctx context.Context, stack, reason string) error {
	rn, ok := p.d.(renamer)
	if !ok {
		return fmt.Errorf("mark %s failed: this Docker client cannot rename containers", stack)
	}
	mine, names, err := p.instancesOf(ctx, stack)
	if err != nil || len(mine) == 0 {
		return err
	}
	if err := p.unregisterIdle(ctx, stack, names, false); err != nil {
		return fmt.Errorf("mark %s failed: %w", stack, err)
	}
	stop := 1
	for _, in := range mine {
		if strings.HasSuffix(in.Name, failedSuffix) {
			continue
		}
		if err := p.d.ContainerStop(ctx, in.ID, container.StopOptions{Timeout: &stop}); err != nil {
			p.logf("%s: stop %s: %v", stack, in.Name, err)
		}
		if err := rn.ContainerRename(ctx, in.ID, in.Name+failedSuffix); err != nil {
			return fmt.Errorf("mark %s failed: rename %s: %w", stack, in.Name, err)
		}
	}
	p.logf("%s: marked failed (%s); its logs: `docker logs %s`", stack, firstLine(reason), mine[0].Name+failedSuffix)
	return nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// instancesOf lists a stack's containers, newest first, and their names.
func (p *Provider) instancesOf(ctx context.Context, stack string) ([]instance, map[string]bool, error) {
	ins, err := p.instances(ctx)
	if err != nil {
		return nil, nil, err
	}
	var mine []instance
	names := map[string]bool{}
	for _, in := range ins {
		if in.Stack == stack {
			mine = append(mine, in)
			names[in.Name] = true
		}
	}
	return mine, names, nil
}
