package local

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/slipway/slipway/internal/deploy"
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

// ScaleDown drains a stack that has no traffic and stops its containers,
// keeping them (and their labels) so ScaleUp can start them again, and the
// router's record of when it was last live, which cleanup and rollback
// read. Its stack port is freed; ScaleUp gives it one again.
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
	tg, grace, err := targetOf(in)
	if err != nil {
		return fmt.Errorf("scale up %s: %w", stack, err)
	}
	if err := p.addTarget(ctx, stack, tg); err != nil {
		return fmt.Errorf("scale up %s: %w", stack, err)
	}
	return p.waitHealthy(ctx, stack, in.Name, in.ID, grace)
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
