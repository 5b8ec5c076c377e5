package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/manifest"
	"github.com/slipway/slipway/internal/naming"
)

// specHash identifies what an instance runs, so an identical re-deploy is a
// no-op and a changed one gets a new container: a changed port, health
// check or secret value too (secrets are the resolved KEY=value entries;
// only this short hash of everything leaves the process). What the
// defaults give hashes as it did before the manifest.
func specHash(s deploy.Spec, secrets []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|%s|%d", s.Image, s.Role, s.Commit, s.Version, s.PR)
	for _, kv := range envList(s.Env) {
		fmt.Fprintf(&b, "|%s", kv)
	}
	if port := containerPort(s); port != appPort {
		fmt.Fprintf(&b, "|port=%s", port)
	}
	if hc := targetHealth(s.Health); hc != nil {
		fmt.Fprintf(&b, "|health=%+v", *hc)
	}
	for _, kv := range secrets {
		fmt.Fprintf(&b, "|secret:%s", kv)
	}
	return naming.Hash(b.String())
}

// envList is env as KEY=value entries, sorted by key.
func envList(env map[string]string) []string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(env))
	for _, k := range keys {
		out = append(out, k+"="+env[k])
	}
	return out
}

// Deploy starts a new instance of the stack, waits until the router sees it
// healthy, moves the stack's routes to it and retires older instances.
// Deploying what already runs starts nothing, but still retires older
// instances of the stack (an interrupted deploy can leave one, Exited).
func (p *Provider) Deploy(ctx context.Context, s deploy.Spec) (deploy.Stack, error) {
	if !naming.ValidStack(s.Stack) || !strings.HasPrefix(s.Stack, p.o.App+"-") {
		return deploy.Stack{}, fmt.Errorf("deploy %q: not a stack name of app %s", s.Stack, p.o.App)
	}
	secrets, err := p.secretEnv(s)
	if err != nil {
		return deploy.Stack{}, err
	}
	if _, err := p.ensurePort(ctx, s.Stack); err != nil {
		return deploy.Stack{}, err
	}
	hash := specHash(s, secrets)
	name := s.Stack + "-" + hash
	ins, err := p.instances(ctx)
	if err != nil {
		return deploy.Stack{}, err
	}
	var old []instance
	var cur *instance
	for _, in := range ins {
		switch {
		case in.Name == name:
			cur = &in
		case in.Stack == s.Stack:
			old = append(old, in)
		}
	}
	if cur != nil && cur.State == "running" && p.health(ctx)[name] {
		p.logf("%s: unchanged (%s already runs commit %s)", s.Stack, name, naming.ShortCommit(s.Commit))
		if err := p.promote(ctx, s.Stack, name, old); err != nil {
			return deploy.Stack{}, err
		}
		return p.stackOf(ctx, s.Stack)
	}
	if cur != nil {
		if err := p.d.ContainerRemove(ctx, cur.ID, container.RemoveOptions{Force: true}); err != nil {
			return deploy.Stack{}, fmt.Errorf("remove stale container %s: %w", name, err)
		}
	}
	if err := p.start(ctx, s, instanceSpec{name: name, hash: hash, secrets: secrets, first: len(old) == 0}); err != nil {
		return deploy.Stack{}, err
	}
	if err := p.promote(ctx, s.Stack, name, old); err != nil {
		return deploy.Stack{}, err
	}
	return p.stackOf(ctx, s.Stack)
}

func (p *Provider) stackOf(ctx context.Context, stack string) (deploy.Stack, error) {
	all, err := p.Stacks(ctx)
	if err != nil {
		return deploy.Stack{}, err
	}
	for _, st := range all {
		if st.Name == stack {
			return st, nil
		}
	}
	return deploy.Stack{}, fmt.Errorf("read stack %s: it is gone", stack)
}

// instanceSpec is what start needs beyond the Spec: the container's name
// and spec hash, the secrets' KEY=value entries, and whether it is the
// stack's first instance (its port is then freed when it fails).
type instanceSpec struct {
	name, hash string
	secrets    []string
	first      bool
}

// start creates and starts the container, registers it with the router
// (without traffic) and waits for it to become healthy. On failure the new
// container is removed and nothing else changes, but that the port of a
// stack that has no other instance is freed.
func (p *Provider) start(ctx context.Context, s deploy.Spec, is instanceSpec) error {
	name := is.name
	env := append([]string{"PORT=" + containerPort(s), "SLIPWAY_STACK=" + s.Stack}, envList(s.Env)...)
	env = append(env, is.secrets...) // the container's environment is their only place
	p.logf("%s: starting container %s (commit %s, image %s)", s.Stack, name, naming.ShortCommit(s.Commit), short(s.Image))
	cfg := &container.Config{Image: s.Image, Env: env, Labels: specLabels(p.o.App, s, is.hash, time.Now())}
	host := &container.HostConfig{NetworkMode: container.NetworkMode(p.network())}
	resp, err := p.d.ContainerCreate(ctx, cfg, host, nil, nil, name)
	if err != nil {
		return fmt.Errorf("create container %s: %w", name, err)
	}
	if err := p.d.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		p.discard(ctx, resp.ID)
		return fmt.Errorf("start container %s: %w", name, err)
	}
	if err := p.addTarget(ctx, s.Stack, newTarget(s, name)); err != nil {
		p.discard(ctx, resp.ID)
		p.releaseFirstPort(ctx, s.Stack, is.first)
		return err
	}
	began := deploy.Now(ctx)
	err = p.waitHealthy(ctx, s.Stack, name, resp.ID, s.Health.Grace)
	deploy.RecordPhase(ctx, deploy.Phase{Name: deploy.PhaseHealthy, Took: deploy.Since(ctx, began),
		Setting: deploy.HealthSetting(s.Health, manifest.LocalHealth)})
	if err != nil {
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		if rerr := p.removeTargets(cctx, map[string]bool{name: true}); rerr != nil {
			p.logf("%s: could not unregister %s from the router: %v", s.Stack, name, rerr)
		}
		p.discard(ctx, resp.ID)
		p.releaseFirstPort(ctx, s.Stack, is.first)
		return err
	}
	return nil
}

// releaseFirstPort frees the port of a stack whose first instance failed
// to start: the stack is not there. Cleanup runs even after Ctrl-C.
func (p *Provider) releaseFirstPort(ctx context.Context, stack string, first bool) {
	if !first {
		return
	}
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	if err := p.releasePort(ctx, stack); err != nil {
		p.logf("%s: could not free its stack port: %v", stack, err)
	}
}

// CleanupTimeout bounds each cleanup step (removing a container that never
// served, reading its last output): cleanup runs even after Ctrl-C, but a
// stuck engine cannot hang the run forever.
const CleanupTimeout = 30 * time.Second

// cleanupContext is ctx without its cancellation (Ctrl-C still cleans up)
// and with CleanupTimeout.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), CleanupTimeout)
}

// discard removes a container that never served, ignoring a failure but
// saying so.
func (p *Provider) discard(ctx context.Context, id string) {
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	if err := p.d.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}); err != nil {
		p.logf("could not remove container %s: %v", short(id), err)
	}
}

// waitHealthy waits until the router sees the instance healthy, within
// the health timeout and the app's health check grace on top of it.
func (p *Provider) waitHealthy(ctx context.Context, stack, name, id string, grace time.Duration) error {
	bound := p.o.HealthTimeout + grace
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	lastErr := "no health check yet"
	for {
		c, err := p.d.ContainerInspect(ctx, id)
		if err == nil && c.State != nil && !c.State.Running {
			return fmt.Errorf("deploy %s: container %s exited with code %d before it became healthy; its last output:\n%s", stack, name, c.State.ExitCode, p.tail(ctx, id))
		}
		st, err := p.router.Status(ctx)
		if err == nil {
			for _, t := range st.Targets {
				if t.Name == name && t.Healthy {
					p.logf("%s: %s is healthy", stack, name)
					return nil
				} else if t.Name == name && t.LastError != "" {
					lastErr = t.LastError
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("deploy %s: %s not healthy within %s (SLIPWAY_HEALTH_TIMEOUT%s): last health check: %s; its last output:\n%s", stack, name, bound, graceNote(grace), lastErr, p.tail(ctx, id))
		case <-time.After(20 * time.Millisecond): // two loopback calls: cheap
		}
	}
}

// tail returns the last lines a container wrote; it works after ctx has
// ended (a health timeout, Ctrl-C), within CleanupTimeout.
func (p *Provider) tail(ctx context.Context, id string) string {
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	rc, err := p.d.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "20"})
	if err != nil {
		return "(logs unavailable: " + err.Error() + ")"
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil && !errors.Is(err, context.Canceled) {
		return out.String() + "(reading logs: " + err.Error() + ")"
	}
	return strings.TrimRight(out.String(), "\n")
}
