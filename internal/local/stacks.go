package local

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/docker/docker/api/types/container"

	"github.com/slipway/slipway/internal/deploy"
)

// instances lists this app's stack containers (not the router), newest first.
func (p *Provider) instances(ctx context.Context) ([]instance, error) {
	cs, err := p.d.ContainerList(ctx, container.ListOptions{All: true, Filters: appFilter(p.o.App)})
	if err != nil {
		return nil, fmt.Errorf("list containers of %s: %w", p.o.App, err)
	}
	var out []instance
	for _, c := range cs {
		in := fromSummary(c)
		if in.Role == roleRouter || in.Stack == "" {
			continue
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// Container is one container of the app, as `status` lists it.
type Container struct {
	Name, Stack, Role string
	State             string // Docker's: running, exited, created...
	Status            string // Docker's words: "Up 5 minutes", "Exited (2) 1 minute ago"
}

// Containers lists every container of the app, the router first, then each
// stack's newest first: nothing is hidden, not even an older instance an
// interrupted deploy left behind.
func (p *Provider) Containers(ctx context.Context) ([]Container, error) {
	cs, err := p.d.ContainerList(ctx, container.ListOptions{All: true, Filters: appFilter(p.o.App)})
	if err != nil {
		return nil, fmt.Errorf("list containers of %s: %w", p.o.App, err)
	}
	ins := make([]instance, 0, len(cs))
	for _, c := range cs {
		ins = append(ins, fromSummary(c))
	}
	sort.SliceStable(ins, func(i, j int) bool {
		a, b := ins[i], ins[j]
		if (a.Role == roleRouter) != (b.Role == roleRouter) {
			return a.Role == roleRouter
		}
		if a.Stack != b.Stack {
			return a.Stack < b.Stack
		}
		return a.Created.After(b.Created)
	})
	out := make([]Container, 0, len(ins))
	for _, in := range ins {
		out = append(out, Container{Name: in.Name, Stack: in.Stack, Role: in.Role, State: in.State, Status: in.Status})
	}
	return out, nil
}

// Stacks lists this app's stacks from container labels.
func (p *Provider) Stacks(ctx context.Context) ([]deploy.Stack, error) {
	ins, err := p.instances(ctx)
	if err != nil {
		return nil, err
	}
	health := p.health(ctx)
	urls := p.urls(ctx)
	seen := map[string]bool{}
	var out []deploy.Stack
	for _, in := range ins { // newest first: the newest instance speaks for its stack
		if seen[in.Stack] {
			continue
		}
		seen[in.Stack] = true
		out = append(out, deploy.Stack{
			Name: in.Stack, Role: in.Role, PR: in.PR, Commit: in.Commit, Digest: in.Digest,
			Created: in.Created, Healthy: in.State == "running" && health[in.Name], Status: in.Status,
		})
		out[len(out)-1].URL = urls[in.Stack]
		withLifecycle(&out[len(out)-1], in)
		p.withSchema(&out[len(out)-1], in)
	}
	return p.withLastLive(ctx, out), nil
}

// health maps router target names to their health; empty if the router
// cannot be reached.
func (p *Provider) health(ctx context.Context) map[string]bool {
	m := map[string]bool{}
	st, err := p.router.Status(ctx)
	if err != nil {
		return m
	}
	for _, t := range st.Targets {
		m[t.Name] = t.Healthy && !t.Draining
	}
	return m
}

// withSchema reads what schema a stack's image needs from the image's
// labels, which its containers carry. A label it cannot read is said, and
// the stack then names no contract migration.
func (p *Provider) withSchema(st *deploy.Stack, in instance) {
	st.Image = in.Labels[LabelImage]
	// A container from before the label says nothing: a release checks it.
	st.NoDatabase = in.Labels[LabelDatabase] == "no"
	st.SchemaHead, _ = strconv.ParseInt(in.Labels[deploy.LabelSchemaHead], 10, 64) // absent: 0, the image says nothing
	st.SchemaMin, _ = strconv.ParseInt(in.Labels[deploy.LabelSchemaMin], 10, 64)   // absent: 0
	cs, err := deploy.ParseContracts(in.Labels[deploy.LabelSchemaContracts])
	if err != nil {
		p.logf("%s: warning: %v", st.Name, err)
	}
	st.Contracts = cs
}

// urls maps each stack with a stack port to its URL; empty when ports are
// off or the router cannot be reached.
func (p *Provider) urls(ctx context.Context) map[string]string {
	if !p.portsOn() {
		return nil
	}
	t, err := p.router.Table(ctx)
	if err != nil {
		return nil
	}
	return p.stackURLs(t)
}
