package previewbench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/local"
)

// Events of one deploy, in the order they happen. Each is the time since
// the deploy started (PrepareRouter, then DeployPreview), first occurrence
// only.
const (
	evRouter   = "router"   // PrepareRouter done (the router image reuse check)
	evBuild    = "build"    // Builder.Build returned (the reuse check)
	evShared   = "shared"   // EnsureShared returned
	evCreated  = "created"  // ContainerCreate of the new instance returned
	evStarted  = "started"  // ContainerStart returned
	evHealthy  = "healthy"  // the provider saw the router call it healthy
	evSwapped  = "swapped"  // the host's route points at the new instance
	evServed   = "served"   // the URL first answered with the new commit
	evStop     = "stop"     // ContainerStop of the old instance called
	evStopped  = "stopped"  // ... and returned
	evDeployed = "deployed" // Provider.Deploy returned (old instance removed)
	evTesting  = "testing"  // the integration tests started
	evTested   = "tested"   // ... and finished
	evReturned = "returned" // DeployPreview returned
)

// logEvents maps words in the provider's and the flow's progress lines to
// events that have no call of their own to time. If the wording changes,
// the columns show "-" rather than a wrong figure.
var logEvents = []struct{ words, event string }{
	{" is healthy", evHealthy},
	{": routes moved to ", evSwapped},
	{" now routes to it", evSwapped},
}

// timeline is the events of one deploy.
type timeline struct {
	start time.Time
	mu    sync.Mutex
	at    map[string]time.Duration
}

func newTimeline() *timeline {
	return &timeline{start: time.Now(), at: map[string]time.Duration{}}
}

func (t *timeline) mark(event string) {
	d := time.Since(t.start)
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, done := t.at[event]; !done {
		t.at[event] = d
	}
}

func (t *timeline) events() map[string]time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := make(map[string]time.Duration, len(t.at))
	for k, v := range t.at {
		m[k] = v
	}
	return m
}

// recorder sends events to the current deploy's timeline (none between
// deploys) and progress lines to the log, stamped with the time since the
// deploy started.
type recorder struct {
	mu  sync.Mutex
	tl  *timeline
	log io.Writer
}

func (r *recorder) begin() *timeline {
	tl := newTimeline()
	r.mu.Lock()
	r.tl = tl
	r.mu.Unlock()
	return tl
}

func (r *recorder) end() {
	r.mu.Lock()
	r.tl = nil
	r.mu.Unlock()
}

func (r *recorder) mark(event string) {
	r.mu.Lock()
	tl := r.tl
	r.mu.Unlock()
	if tl != nil {
		tl.mark(event)
	}
}

// line records the events a progress line announces and logs it.
func (r *recorder) line(s string) {
	for _, le := range logEvents {
		if strings.Contains(s, le.words) {
			r.mark(le.event)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tl != nil {
		fmt.Fprintf(r.log, "%7s  %s\n", "+"+fmtDur(time.Since(r.tl.start)), s)
		return
	}
	fmt.Fprintf(r.log, "%7s  %s\n", "", s)
}

func (r *recorder) writer() io.Writer { return lineWriter{r} }

type lineWriter struct{ r *recorder }

// Write takes one or more lines; writers here print whole lines.
func (w lineWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.r.line(l)
	}
	return len(p), nil
}

// timedBuilder marks when the build step (here: the reuse check) is done.
type timedBuilder struct {
	b   deploy.Builder
	rec *recorder
}

func (t timedBuilder) Build(ctx context.Context, purpose string) (deploy.Image, error) {
	img, err := t.b.Build(ctx, purpose)
	t.rec.mark(evBuild)
	return img, err
}

// timedProvider marks when EnsureShared and Deploy return.
type timedProvider struct {
	deploy.Target
	rec *recorder
}

func (t timedProvider) EnsureShared(ctx context.Context) error {
	err := t.Target.EnsureShared(ctx)
	t.rec.mark(evShared)
	return err
}

func (t timedProvider) Deploy(ctx context.Context, s deploy.Spec) (deploy.Stack, error) {
	st, err := t.Target.Deploy(ctx, s)
	t.rec.mark(evDeployed)
	return st, err
}

// timedTester marks the start and end of the integration tests.
type timedTester struct {
	t   deploy.Tester
	rec *recorder
}

func (t timedTester) Test(ctx context.Context, tt deploy.TestTarget) (deploy.TestResult, error) {
	t.rec.mark(evTesting)
	res, err := t.t.Test(ctx, tt)
	t.rec.mark(evTested)
	return res, err
}

// timedDocker marks the container calls of a deploy: the new instance's
// create and start, the old one's stop. The router's own create and start
// (when its image changed) are not marked: they are part of EnsureShared.
type timedDocker struct {
	local.Docker
	rec     *recorder
	router  string    // the router's container name
	routers *sync.Map // IDs of router containers created, to skip their start
}

func (t timedDocker) ContainerCreate(ctx context.Context, config *container.Config, host *container.HostConfig, net *network.NetworkingConfig, platform *ocispec.Platform, name string) (container.CreateResponse, error) {
	resp, err := t.Docker.ContainerCreate(ctx, config, host, net, platform, name)
	if name == t.router {
		t.routers.Store(resp.ID, true)
		return resp, err
	}
	t.rec.mark(evCreated)
	return resp, err
}

func (t timedDocker) ContainerStart(ctx context.Context, id string, o container.StartOptions) error {
	err := t.Docker.ContainerStart(ctx, id, o)
	if _, isRouter := t.routers.Load(id); !isRouter {
		t.rec.mark(evStarted)
	}
	return err
}

func (t timedDocker) ContainerStop(ctx context.Context, id string, o container.StopOptions) error {
	t.rec.mark(evStop)
	err := t.Docker.ContainerStop(ctx, id, o)
	t.rec.mark(evStopped)
	return err
}
