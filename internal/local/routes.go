package local

import (
	"context"
	"errors"
	"fmt"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/router"
)

func (p *Provider) baseTable(t router.Table) router.Table {
	t.Health = router.HealthCheck{Path: "/healthz", Interval: "500ms", Timeout: "1s", HealthyThreshold: 1, UnhealthyThreshold: 3}
	t.DrainTimeout = p.o.DrainTimeout.String()
	t.ProductionHosts = p.ProductionHosts()
	return t
}

// update reads the router table, applies change and writes the result
// only if nobody replaced the table meanwhile (ETag), retrying a few times:
// two deploys at once never lose each other's routes.
func (p *Provider) update(ctx context.Context, what string, change func(t *router.Table) (bool, error)) error {
	return p.updateTable(ctx, what, false, change)
}

// updateTable is update; allowEmpty lets the change remove every target.
func (p *Provider) updateTable(ctx context.Context, what string, allowEmpty bool, change func(t *router.Table) (bool, error)) error {
	for attempt := 1; ; attempt++ {
		t, etag, err := p.router.TableVersion(ctx)
		if err != nil {
			return fmt.Errorf("read router table: %w", err)
		}
		changed, err := change(&t)
		if err != nil || !changed {
			return err
		}
		err = p.router.Put(ctx, p.baseTable(t), router.PutOptions{IfMatch: etag, AllowEmpty: allowEmpty})
		if err == nil {
			return nil
		}
		if !errors.Is(err, router.ErrConflict) || attempt == 5 {
			return fmt.Errorf("%s: %w", what, err)
		}
		// Another change of the table (a parallel delete, another deploy)
		// came first: read it again and apply this change on top. That is
		// the normal course of parallel work, not news for the user.
	}
}

// addTarget registers an instance with the router, with no route to it
// but its stack's port, which it gets now if it lost it (another deploy
// took it back while this one started: see allocatePort).
func (p *Provider) addTarget(ctx context.Context, stack string, tg router.Target) error {
	return p.update(ctx, "register "+tg.Name+" with the router", func(t *router.Table) (bool, error) {
		changed := true
		for _, have := range t.Targets {
			if have.Name == tg.Name {
				changed = false
			}
		}
		if changed {
			t.Targets = append(t.Targets, tg)
		}
		if p.portsOn() && p.portOf(*t, stack) == 0 {
			if _, err := p.allocatePort(ctx, t, stack); err != nil {
				return false, err
			}
			changed = true
		}
		return changed, nil
	})
}

// removeTargets unregisters instances and every route to them; the router
// drains their in-flight requests.
func (p *Provider) removeTargets(ctx context.Context, names map[string]bool) error {
	return p.updateTable(ctx, "unregister targets", true, func(t *router.Table) (bool, error) {
		*t = withoutTargets(*t, names)
		return true, nil
	})
}

// withoutTargets is t without the named targets and their routes. It keeps
// every last_live key: the router drops the record of a stack left without
// targets unless the key comes back (see unregisterIdle).
func withoutTargets(t router.Table, names map[string]bool) router.Table {
	var out router.Table
	out.Health, out.DrainTimeout, out.IdleTimeout, out.ProductionHosts = t.Health, t.DrainTimeout, t.IdleTimeout, t.ProductionHosts
	out.LastLive, out.Ports = t.LastLive, t.Ports
	for _, tg := range t.Targets {
		if !names[tg.Name] {
			out.Targets = append(out.Targets, tg)
		}
	}
	for _, h := range t.Hosts {
		if !names[h.Target] {
			out.Hosts = append(out.Hosts, h)
		}
	}
	for _, w := range t.Production {
		if !names[w.Target] {
			out.Production = append(out.Production, w)
		}
	}
	return out
}

// promote moves every route of the stack's old instances to the new one in
// one table swap, then drains and removes the old instances.
func (p *Provider) promote(ctx context.Context, stack, name string, old []instance) error {
	if len(old) == 0 {
		return nil
	}
	oldNames := map[string]bool{}
	for _, in := range old {
		oldNames[in.Name] = true
	}
	err := p.update(ctx, "move "+stack+" routes to "+name, func(t *router.Table) (bool, error) {
		for i, h := range t.Hosts {
			if oldNames[h.Target] {
				t.Hosts[i].Target = name
			}
		}
		for i, w := range t.Production {
			if oldNames[w.Target] {
				t.Production[i].Target = name
			}
		}
		*t = withoutTargets(*t, oldNames)
		return true, nil
	})
	if err != nil {
		return err
	}
	p.logf("%s: routes moved to %s", stack, name)
	return p.retire(ctx, stack, old)
}

// retire waits for the router to drain instances, then stops (SIGTERM, so
// the app finishes what it still has) and removes their containers.
func (p *Provider) retire(ctx context.Context, stack string, old []instance) error {
	began := deploy.Now(ctx)
	p.waitDrained(ctx, old)
	deploy.RecordPhase(ctx, deploy.Phase{Name: deploy.PhaseDrain, Took: deploy.Since(ctx, began), Setting: "SLIPWAY_DRAIN_TIMEOUT " + p.o.DrainTimeout.String()})
	stop := int(p.o.DrainTimeout / time.Second)
	for _, in := range old {
		p.logf("%s: removing old container %s", stack, in.Name)
		if err := p.d.ContainerStop(ctx, in.ID, container.StopOptions{Timeout: &stop}); err != nil {
			p.logf("%s: stop %s: %v (removing anyway)", stack, in.Name, err)
		}
		if err := p.d.ContainerRemove(ctx, in.ID, container.RemoveOptions{Force: true}); err != nil {
			return fmt.Errorf("remove container %s: %w", in.Name, err)
		}
	}
	return nil
}

func (p *Provider) waitDrained(ctx context.Context, old []instance) {
	ctx, cancel := context.WithTimeout(ctx, p.o.DrainTimeout)
	defer cancel()
	names := map[string]bool{}
	for _, in := range old {
		names[in.Name] = true
	}
	for {
		st, err := p.router.Status(ctx)
		busy := false
		for _, t := range st.Targets {
			if names[t.Name] && t.InFlight > 0 {
				busy = true
			}
		}
		if err != nil || !busy {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stackOfTarget maps router target names (instances) to stack names.
func (p *Provider) stackOfTarget(ctx context.Context) (map[string]instance, error) {
	ins, err := p.instances(ctx)
	if err != nil {
		return nil, err
	}
	m := map[string]instance{}
	for _, in := range ins {
		m[in.Name] = in
	}
	return m, nil
}

// Routes reads the router table and says it in stacks.
func (p *Provider) Routes(ctx context.Context) (deploy.Routes, error) {
	t, err := p.router.Table(ctx)
	if err != nil {
		if _, ierr := p.d.ContainerInspect(ctx, p.routerName()); cerrdefs.IsNotFound(ierr) {
			return deploy.Routes{Hosts: map[string]string{}}, nil // no shared stack: nothing routes
		}
		return deploy.Routes{}, fmt.Errorf("read router table: %w (is the router running? `docker logs %s`)", err, p.routerName())
	}
	m, err := p.stackOfTarget(ctx)
	if err != nil {
		return deploy.Routes{}, err
	}
	r := deploy.Routes{Hosts: map[string]string{}}
	for _, h := range t.Hosts {
		if in, ok := m[h.Target]; ok {
			r.Hosts[h.Host] = in.Stack
		}
	}
	for _, w := range t.Production {
		if in, ok := m[w.Target]; ok {
			r.Production = append(r.Production, deploy.Weight{Stack: in.Stack, Weight: w.Weight})
		}
	}
	return r, nil
}

// SetHost routes host to the stack's current instance, or removes the
// host's rule when stack is "", in one conditional table swap.
func (p *Provider) SetHost(ctx context.Context, host, stack string) error {
	return p.update(ctx, "route "+host, func(t *router.Table) (bool, error) {
		var hosts []router.HostRule
		for _, h := range t.Hosts {
			if h.Host != host {
				hosts = append(hosts, h)
			}
		}
		if stack != "" {
			name, err := p.instanceOf(ctx, *t, stack)
			if err != nil {
				return false, err
			}
			hosts = append(hosts, router.HostRule{Host: host, Target: name})
		}
		t.Hosts = hosts
		return true, nil
	})
}

// SetProduction points the production weights at the stacks' current
// instances, in one conditional table swap. Every stack given a positive
// weight must be healthy in the router when the swap is made: otherwise it
// returns an *UnhealthyError and the table is unchanged. The swap drops the
// last_live records of stacks that no longer exist (pruneLastLive).
func (p *Provider) SetProduction(ctx context.Context, ws []deploy.Weight) error {
	return p.update(ctx, "set production weights", func(t *router.Table) (bool, error) {
		st, err := p.router.Status(ctx)
		if err != nil {
			return false, err
		}
		health := map[string]router.TargetStatus{}
		for _, ts := range st.Targets {
			if !ts.Draining {
				health[ts.Name] = ts
			}
		}
		if err := p.pruneLastLive(ctx, t); err != nil {
			return false, err
		}
		t.Production = nil
		for _, w := range ws {
			name, err := p.instanceOf(ctx, *t, w.Stack)
			if err != nil {
				return false, err
			}
			if hs := health[name]; w.Weight > 0 && !hs.Healthy {
				return false, &UnhealthyError{Stack: w.Stack, Target: name, Reason: hs.LastError}
			}
			t.Production = append(t.Production, router.Weighted{Target: name, Weight: w.Weight})
		}
		return true, nil
	})
}

// UnhealthyError is SetProduction's refusal to give traffic to a stack that
// fails its health check.
type UnhealthyError struct {
	Stack, Target string
	Reason        string // the router's last health check error, if any
}

func (e *UnhealthyError) Error() string {
	why := e.Reason
	if why == "" {
		why = "its health check has not passed yet"
	}
	return fmt.Sprintf("set production weights: stack %s (%s) is not healthy: %s; traffic is unchanged (check `docker logs %s`)", e.Stack, e.Target, why, e.Target)
}

func (p *Provider) instanceOf(ctx context.Context, t router.Table, stack string) (string, error) {
	current, err := p.currentInstances(ctx, t)
	if err != nil {
		return "", err
	}
	if in, ok := current[stack]; ok {
		return in, nil
	}
	return "", fmt.Errorf("route to %s: no running instance of that stack is registered with the router (deploy it first)", stack)
}

// currentInstances maps each stack to its newest running instance that is
// registered with the router.
func (p *Provider) currentInstances(ctx context.Context, t router.Table) (map[string]string, error) {
	ins, err := p.instances(ctx) // newest first
	if err != nil {
		return nil, err
	}
	registered := map[string]bool{}
	for _, tg := range t.Targets {
		registered[tg.Name] = true
	}
	out := map[string]string{}
	for _, in := range ins {
		if _, done := out[in.Stack]; !done && in.State == "running" && registered[in.Name] {
			out[in.Stack] = in.Name
		}
	}
	return out, nil
}

// Delete removes a stack: its routes, its router targets (drained) and its
// containers. It refuses a stack that carries production traffic; that
// check is made inside the same conditional table write that removes the
// targets, so a rollback in between cannot lose production's only target.
func (p *Provider) Delete(ctx context.Context, stack string) error {
	mine, names, err := p.instancesOf(ctx, stack)
	if err != nil {
		return err
	}
	if len(mine) == 0 {
		p.logf("%s: nothing to delete", stack)
		return p.releasePort(ctx, stack) // a first deploy killed before its container existed
	}
	if err := p.unregisterIdle(ctx, stack, names, false); err != nil {
		return fmt.Errorf("delete %s: %w", stack, err)
	}
	return p.retire(ctx, stack, mine)
}

// unregisterIdle removes a stack's targets (names) and its stack port from
// the router table, refusing with deploy.ErrLive when any of them has
// production weight. The check is inside the same conditional update, so
// a traffic change between a read and the write can never leave
// production without its target. keepLastLive keeps the router's record of
// when the stack was last live (a stack scaled to zero); otherwise it is
// dropped with the stack.
func (p *Provider) unregisterIdle(ctx context.Context, stack string, names map[string]bool, keepLastLive bool) error {
	return p.updateTable(ctx, "unregister "+stack, true, func(t *router.Table) (bool, error) {
		for _, w := range t.Production {
			if w.Weight > 0 && names[w.Target] {
				return false, fmt.Errorf("%w: move traffic to another stack first", deploy.ErrLive)
			}
		}
		*t = withoutTargets(*t, names)
		dropPort(t, stack)
		if !keepLastLive {
			delete(t.LastLive, stack)
		}
		return true, nil
	})
}
