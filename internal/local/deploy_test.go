package local_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/local"
)

// An interrupted deploy can leave an older instance of a stack behind,
// Exited. `status` lists it, and the next deploy of the stack retires it even
// though what it deploys is unchanged.
func TestAnExitedLeftoverIsShownAndRetiredByAnUnchangedDeploy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 6}); err != nil {
		t.Fatal(err)
	}
	stack := e.app + "-pr-6"
	cs, err := e.provider.Containers(ctx)
	if err != nil || len(cs) != 2 {
		t.Fatalf("containers %+v (%v): want the router and one instance", cs, err)
	}
	current := cs[1].Name
	leftover := stack + "-leftover"
	e.exitedCopy(current, leftover)

	cs, err = e.provider.Containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := stateOf(cs, leftover); got != "exited" {
		t.Fatalf("status does not show the leftover as exited (%q): %+v", got, cs)
	}
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 6}); err != nil {
		t.Fatal(err)
	}
	cs, err = e.provider.Containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stateOf(cs, leftover) != "" || stateOf(cs, current) != "running" {
		t.Fatalf("after an unchanged deploy: %+v; want %s running and %s gone", cs, current, leftover)
	}
	if c, code := e.commitAt(e.host(6)); c != commitA || code != 200 {
		t.Fatalf("pr-6 serves %q (%d) after the deploy, want %s", c, code, commitA)
	}
}

// exitedCopy creates name as an older instance of from's stack (same image
// and labels, created an hour earlier), runs it and stops it.
func (e *env) exitedCopy(from, name string) {
	e.t.Helper()
	ctx := context.Background()
	src, err := e.cli.ContainerInspect(ctx, from)
	if err != nil {
		e.t.Fatal(err)
	}
	labels := map[string]string{}
	for k, v := range src.Config.Labels {
		labels[k] = v
	}
	labels[local.LabelSpec] = "leftover"
	labels[local.LabelCreated] = time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	cfg := &container.Config{Image: src.Config.Image, Env: src.Config.Env, Labels: labels}
	resp, err := e.cli.ContainerCreate(ctx, cfg, &container.HostConfig{NetworkMode: src.HostConfig.NetworkMode}, nil, nil, name)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		e.t.Fatal(err)
	}
	stop := 5
	if err := e.cli.ContainerStop(ctx, resp.ID, container.StopOptions{Timeout: &stop}); err != nil {
		e.t.Fatal(err)
	}
}

func stateOf(cs []local.Container, name string) string {
	for _, c := range cs {
		if c.Name == name {
			return c.State
		}
	}
	return ""
}

// The user presses Ctrl-C while a container starts: the half-made container
// is still removed (the cleanup call is not cancelled), but with a deadline,
// so a stuck engine cannot hang the run forever.
func TestCleanupAfterCtrlCRunsWithABound(t *testing.T) {
	d := &stuckEngine{}
	p := local.New(d, local.Options{App: "shop"})
	ctx, cancel := context.WithCancel(context.Background())
	d.onStart = cancel // Ctrl-C arrives while the container starts
	_, err := p.Deploy(ctx, deploy.Spec{Stack: "shop-pr-1", Role: deploy.RolePreview, PR: 1, Image: "shop/app:pr-1", Commit: "6dcb09b5b57875f334f61aebed695e2e4193db5e"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("deploy: %v, want the cancellation", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.removed {
		t.Fatal("the half-made container was not removed after Ctrl-C")
	}
	if d.removeErr != nil {
		t.Fatalf("the removal ran with a cancelled context: %v", d.removeErr)
	}
	if d.removeDeadline.IsZero() || time.Until(d.removeDeadline) > local.CleanupTimeout {
		t.Fatalf("the removal has no deadline within %s: %v", local.CleanupTimeout, d.removeDeadline)
	}
}

// stuckEngine is a Docker engine whose start fails with the caller's
// cancellation and which records the removal's context.
type stuckEngine struct {
	local.Docker // any other call panics: the test must not need it
	onStart      func()

	mu             sync.Mutex
	removed        bool
	removeErr      error
	removeDeadline time.Time
}

func (d *stuckEngine) ContainerList(context.Context, container.ListOptions) ([]container.Summary, error) {
	return nil, nil
}

func (d *stuckEngine) ContainerCreate(context.Context, *container.Config, *container.HostConfig, *network.NetworkingConfig, *ocispec.Platform, string) (container.CreateResponse, error) {
	return container.CreateResponse{ID: strings.Repeat("c", 64)}, nil
}

func (d *stuckEngine) ContainerStart(ctx context.Context, _ string, _ container.StartOptions) error {
	d.onStart()
	return ctx.Err()
}

func (d *stuckEngine) ContainerRemove(ctx context.Context, _ string, _ container.RemoveOptions) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.removed, d.removeErr = true, ctx.Err()
	d.removeDeadline, _ = ctx.Deadline()
	return nil
}

func (d *stuckEngine) ContainerLogs(context.Context, string, container.LogsOptions) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("")), nil
}
