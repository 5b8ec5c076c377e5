package awsprov

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/manifest"
)

// slot is where a deploy stack's rule and, without a domain, its listener
// go on the shared ALB.
type slot struct {
	priority, port int
	reused         bool // the stack already had them
}

// Deploy creates or updates the deploy stack through change sets, then
// waits (bounded) until ECS runs the deployed image and the target group
// has a healthy target. It moves no production traffic.
func (p *Provider) Deploy(ctx context.Context, s deploy.Spec) (deploy.Stack, error) {
	shared, err := p.Shared(ctx)
	if err != nil {
		return deploy.Stack{}, err
	}
	next := nextCommand(s)
	app, err := p.appParams(ctx, s, shared)
	if err != nil {
		return deploy.Stack{}, err
	}
	// AWS's clock may be behind ours: events a little older still count.
	started := time.Now().Add(-30 * time.Second)
	for attempt := 1; ; attempt++ {
		existing, err := p.eng.Describe(ctx, s.Stack)
		if err != nil {
			return deploy.Stack{}, failure(err)
		}
		sl, release, err := p.allocate(ctx, s, existing, shared)
		if err != nil {
			return deploy.Stack{}, err
		}
		st, err := p.upsert(ctx, s, app, shared, sl, existing, next)
		release()
		if taken := sl.taken(err); taken != "" && !sl.reused && attempt < allocAttempts {
			p.logf("%s: %s was taken by another deploy meanwhile: allocating another", s.Stack, taken)
			continue
		}
		if err != nil {
			return deploy.Stack{}, failure(err)
		}
		if sl.port > 0 {
			p.mu.Lock()
			p.ports[s.Host] = sl.port
			p.mu.Unlock()
		}
		r := rollout{stack: s.Stack, cluster: shared.ClusterName, service: st.Outputs[infra.OutputDeployServiceName],
			taskDef:     st.Outputs[infra.OutputDeployTaskDefinition],
			targetGroup: st.Outputs[infra.OutputDeployTargetGroupARN], image: s.Image, next: next, logGroup: shared.LogGroupName,
			health: deploy.HealthSetting(s.Health, manifest.AWSHealth),
			spot:   st.Params["CapacityProvider"] == infra.CapacitySpot, started: started}
		err = p.verify(ctx, r)
		if errors.Is(err, errSpotCapacity) && !app.OnDemand {
			p.logf("%s: %v: deploying it once more on regular Fargate (FARGATE, about three times Spot's price); the next deploy tries Spot again", s.Stack, err)
			app.OnDemand = true
			continue
		}
		if err != nil {
			return toStack(st), err
		}
		p.logf("%s: healthy, running %s", s.Stack, s.Image)
		return toStack(st), nil
	}
}

// upsert creates or updates the deploy stack with app's settings (from
// appParams) and the slot's.
func (p *Provider) upsert(ctx context.Context, s deploy.Spec, app infra.DeployParams, shared infra.SharedOutputs, sl slot, existing cfnstack.Stack, next string) (cfnstack.Stack, error) {
	env, dbSecret, err := p.databaseSecret(ctx, s) // db.go: DATABASE_URL travels as a secret's ARN
	if err != nil {
		return cfnstack.Stack{}, err
	}
	in, err := p.deployInput(s, app, env, dbSecret, shared, sl, existing, next)
	if err != nil {
		return cfnstack.Stack{}, err
	}
	res, err := p.eng.Upsert(ctx, in)
	if err != nil {
		return res.Stack, err
	}
	p.logf("%s: stack %s", s.Stack, res.Action)
	for _, o := range res.Orphans {
		p.logf("%s: warning: resource %s (%s) was retained and still exists: delete it by hand", s.Stack, o.LogicalID, o.PhysicalID)
	}
	return res.Stack, nil
}

// deployInput is the change Upsert makes to the deploy stack (and Plan
// plans): template, parameters and tags.
func (p *Provider) deployInput(s deploy.Spec, app infra.DeployParams, env map[string]string, dbSecret string, shared infra.SharedOutputs, sl slot, existing cfnstack.Stack, next string) (cfnstack.Input, error) {
	dp := app
	dp.Stack, dp.Role, dp.Image, dp.Env, dp.CPU, dp.Memory = s.Stack, s.Role, s.Image, env, p.o.CPU, p.o.Memory
	dp.Priority, dp.ListenerPort, dp.Shared, dp.DatabaseSecretARN = sl.priority, sl.port, shared, dbSecret
	if s.Role == deploy.RolePreview && !p.PortMode() {
		dp.Host = s.Host
	}
	params, err := dp.Parameters()
	if err != nil {
		return cfnstack.Input{}, err
	}
	template, err := dp.Template()
	if err != nil {
		return cfnstack.Input{}, err
	}
	created := existing.Tags[TagCreated]
	if created == "" {
		created = time.Now().UTC().Format(time.RFC3339)
	}
	tags := map[string]string{TagApp: p.o.App, TagRole: s.Role, TagCommit: s.Commit, TagDigest: s.Digest, TagCreated: created}
	maps.Copy(tags, lifecycleTags(s))
	if s.PR > 0 {
		tags[TagPR] = strconv.Itoa(s.PR)
	}
	if s.Host != "" {
		tags[TagHost] = s.Host
	}
	return cfnstack.Input{Name: s.Stack, Template: template, Parameters: paramMap(params), Tags: tags, Live: p.liveGuard, Next: next}, nil
}

// allocate reuses the stack's rule priority and port, or reserves free
// ones until release is called, so concurrent deploys of this process
// never pick the same; deploys of other processes are caught by
// PriorityInUse and retried.
func (p *Provider) allocate(ctx context.Context, s deploy.Spec, existing cfnstack.Stack, shared infra.SharedOutputs) (slot, func(), error) {
	// A stack that never came up (ROLLBACK_COMPLETE, e.g. after another
	// deploy took its priority) has no rule: it is re-created on new slots.
	if existing.State != cfnstack.StateAbsent && existing.State != cfnstack.StateFailed {
		prio, _ := strconv.Atoi(existing.Params["Priority"])
		port, _ := strconv.Atoi(existing.Params["ListenerPort"])
		if prio > 0 {
			return slot{priority: prio, port: port, reused: true}, func() {}, nil
		}
	}
	t := p.traffic(shared.ForRole(s.Role)) // a preview's rule and port are on the previews ALB
	t.Ports = PortRange{First: shared.PreviewPortFirst, Last: shared.PreviewPortLast}
	p.mu.Lock()
	defer p.mu.Unlock()
	var sl slot
	var err error
	if sl.priority, err = t.FreePriority(ctx, s.Stack, p.taken("prio")); err != nil {
		return sl, nil, err
	}
	if s.Role == deploy.RolePreview && p.PortMode() {
		if sl.port, err = t.FreePort(ctx, s.Stack, p.taken("port")); err != nil {
			return sl, nil, err
		}
	}
	keys := []string{fmt.Sprintf("prio:%d", sl.priority), fmt.Sprintf("port:%d", sl.port)}
	for _, k := range keys {
		p.reserved[k] = true
	}
	return sl, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, k := range keys {
			delete(p.reserved, k)
		}
	}, nil
}

// taken returns the reserved values of kind (caller holds p.mu).
func (p *Provider) taken(kind string) map[int]bool {
	out := map[int]bool{}
	for k := range p.reserved {
		var v int
		if _, err := fmt.Sscanf(k, kind+":%d", &v); err == nil && v > 0 {
			out[v] = true
		}
	}
	return out
}

// nextCommand is what a user runs when a deploy of s fails.
func nextCommand(s deploy.Spec) string {
	if s.Role == deploy.RoleProduction {
		return "go run mage.go status (production traffic is unchanged; fix and run release again)"
	}
	if s.PR > 0 {
		return fmt.Sprintf("go run mage.go preview:destroy -pr=%d", s.PR)
	}
	return "go run mage.go preview:destroy"
}
