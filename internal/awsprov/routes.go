package awsprov

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/deploy"
)

// Routes reads the live routing: hosts from the preview stacks' tags (each
// stack owns its rule), production weights from the production rule.
func (p *Provider) Routes(ctx context.Context) (deploy.Routes, error) {
	r := deploy.Routes{Hosts: map[string]string{}}
	shared, err := p.Shared(ctx)
	if errors.Is(err, errNoShared) {
		return r, nil // nothing deployed: nothing routed
	}
	if err != nil {
		return r, err
	}
	stacks, err := p.deployStacks(ctx)
	if err != nil {
		return r, err
	}
	byTG := map[string]string{}
	p.mu.Lock()
	for _, s := range stacks {
		byTG[s.Outputs[infra.OutputDeployTargetGroupARN]] = s.Name
		if h := s.Tags[TagHost]; h != "" && s.Tags[TagRole] == deploy.RolePreview {
			r.Hosts[h] = s.Name
			if port, _ := strconv.Atoi(s.Params["ListenerPort"]); port > 0 {
				p.ports[h] = port
			}
		}
	}
	p.mu.Unlock()
	ws, err := p.traffic(shared).Weights(ctx)
	if err != nil {
		return r, err
	}
	for _, w := range ws {
		name, ok := byTG[w.TargetGroup]
		if !ok {
			name = "(no stack) " + w.TargetGroup
		}
		r.Production = append(r.Production, deploy.Weight{Stack: name, Weight: w.Weight})
	}
	return r, nil
}

// Port returns the listener port of a preview host in port mode, as last
// read by Deploy or Routes.
func (p *Provider) Port(host string) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	port, ok := p.ports[host]
	return port, ok
}

// SetHost checks that host routes to stack. On AWS a preview's rule (or
// port) is part of its deploy stack, made by Deploy from Spec.Host and
// removed by Delete with the stack, so there is nothing else to change;
// removing a host (stack "") is left to Delete.
func (p *Provider) SetHost(ctx context.Context, host, stack string) error {
	if stack == "" {
		return nil
	}
	st, err := p.eng.Describe(ctx, stack)
	if err != nil {
		return failure(err)
	}
	if st.Tags[TagHost] != host {
		return fmt.Errorf("route %s to %s: the stack answers on %q; on aws a preview's host is set when it is deployed: deploy it again", host, stack, st.Tags[TagHost])
	}
	return nil
}

// SetProduction replaces the production weights with one ModifyRule (one
// CreateRule the first time). Every stack named must be a healthy deploy
// stack; one that is to take traffic must have a healthy target.
func (p *Provider) SetProduction(ctx context.Context, ws []deploy.Weight) error {
	shared, err := p.Shared(ctx)
	if err != nil {
		return err
	}
	stacks, err := p.deployStacks(ctx)
	if err != nil {
		return err
	}
	byName := map[string]cfnstack.Stack{}
	for _, s := range stacks {
		byName[s.Name] = s
	}
	tws := make([]TargetWeight, 0, len(ws))
	for _, w := range ws {
		s, ok := byName[w.Stack]
		if !ok {
			return fmt.Errorf("set production traffic: stack %s does not exist (see `go run mage.go status`)", w.Stack)
		}
		if s.State != cfnstack.StateHealthy {
			return fmt.Errorf("set production traffic: stack %s is %s (%s), not healthy: traffic unchanged", w.Stack, s.State, s.Status)
		}
		tg := s.Outputs[infra.OutputDeployTargetGroupARN]
		if w.Weight > 0 {
			ok, why, err := p.targetsHealthy(ctx, tg)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("set production traffic: stack %s has no healthy target (%s): traffic unchanged", w.Stack, why)
			}
		}
		tws = append(tws, TargetWeight{TargetGroup: tg, Weight: w.Weight})
	}
	warn, err := p.traffic(shared).SetWeightsStamped(ctx, tws, stampLive(stacks, time.Now()))
	if warn != nil {
		p.logf("warning: record which stacks were live: %v (rollback and cleanup may not see when they last had traffic)", warn)
	}
	if err != nil {
		return err
	}
	p.logf("production traffic: %s", deploy.SplitString(ws))
	return nil
}

// liveGuard says whether a stack carries production traffic.
func (p *Provider) liveGuard(ctx context.Context, s cfnstack.Stack) (bool, error) {
	return p.isLive(ctx, s.Name)
}

func (p *Provider) isLive(ctx context.Context, stack string) (bool, error) {
	r, err := p.Routes(ctx)
	if err != nil {
		return false, err
	}
	for _, l := range r.Live() {
		if l == stack {
			return true, nil
		}
	}
	return false, nil
}

// Delete refuses a stack that carries production traffic, deletes the
// stack (its rule and port go with it) and sweeps any rule or listener
// still forwarding to its target group.
func (p *Provider) Delete(ctx context.Context, stack string) error {
	live, err := p.isLive(ctx, stack)
	if err != nil {
		return err
	}
	if live {
		return fmt.Errorf("delete %s: %w: move production traffic off it first (release, or rollback to another stack)", stack, deploy.ErrLive)
	}
	st, err := p.eng.Describe(ctx, stack)
	if err != nil {
		return failure(err)
	}
	if st.State == cfnstack.StateAbsent {
		p.logf("%s: no such stack: already gone, nothing to delete", stack)
		return nil
	}
	if r := st.Tags[TagRole]; r != deploy.RolePreview && r != deploy.RoleProduction {
		return fmt.Errorf("delete %s: it is not a deploy stack of %s (role %q): refusing", stack, p.o.App, r)
	}
	res, err := p.eng.Delete(ctx, cfnstack.DeleteInput{Name: stack, Live: p.liveGuard, Next: "go run mage.go status"})
	if err != nil {
		return failure(err)
	}
	for _, o := range res.Orphans {
		p.logf("%s: warning: resource %s (%s) was retained and still exists: delete it by hand", stack, o.LogicalID, o.PhysicalID)
	}
	if tg := st.Outputs[infra.OutputDeployTargetGroupARN]; tg != "" {
		shared, err := p.Shared(ctx)
		if err != nil {
			return err
		}
		if err := p.traffic(shared.ForRole(st.Tags[TagRole])).Sweep(ctx, tg); err != nil {
			return err
		}
	}
	p.mu.Lock()
	delete(p.ports, st.Tags[TagHost])
	p.mu.Unlock()
	p.logf("%s: deleted", stack)
	return nil
}
