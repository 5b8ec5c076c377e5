package local

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/go-connections/nat"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/slipway/slipway/internal/router"
)

// Docker is the part of the Docker Engine API the local target uses.
type Docker interface {
	ContainerCreate(ctx context.Context, config *container.Config, host *container.HostConfig, net *network.NetworkingConfig, platform *ocispec.Platform, name string) (container.CreateResponse, error)
	ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error)
	ContainerList(ctx context.Context, o container.ListOptions) ([]container.Summary, error)
	ContainerLogs(ctx context.Context, id string, o container.LogsOptions) (io.ReadCloser, error)
	ContainerRemove(ctx context.Context, id string, o container.RemoveOptions) error
	ContainerStart(ctx context.Context, id string, o container.StartOptions) error
	ContainerStop(ctx context.Context, id string, o container.StopOptions) error
	NetworkCreate(ctx context.Context, name string, o network.CreateOptions) (network.CreateResponse, error)
	NetworkInspect(ctx context.Context, id string, o network.InspectOptions) (network.Inspect, error)
	NetworkList(ctx context.Context, o network.ListOptions) ([]network.Summary, error)
	NetworkRemove(ctx context.Context, id string) error
	VolumeCreate(ctx context.Context, o volume.CreateOptions) (volume.Volume, error)
	VolumeRemove(ctx context.Context, id string, force bool) error
}

// Options configure the local target.
type Options struct {
	App           string
	RouterImage   string // image reference (ID or repo@digest) of the router
	RouterPort    int    // published on 127.0.0.1
	AdminPort     int    // published on 127.0.0.1
	HealthTimeout time.Duration
	DrainTimeout  time.Duration
	Log           io.Writer // progress, one line per event
}

// Provider implements deploy.Provider on the local Docker engine.
type Provider struct {
	d      Docker
	o      Options
	router *router.Client
}

// New returns a local provider.
func New(d Docker, o Options) *Provider {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.HealthTimeout <= 0 {
		o.HealthTimeout = 60 * time.Second
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 10 * time.Second
	}
	rc := &router.Client{
		BaseURL: "http://127.0.0.1:" + strconv.Itoa(o.AdminPort),
		HTTP:    &http.Client{Timeout: 10 * time.Second},
	}
	return &Provider{d: d, o: o, router: rc}
}

// Router returns the admin client of this app's router.
func (p *Provider) Router() *router.Client { return p.router }

func (p *Provider) network() string         { return "slipway-" + p.o.App }
func (p *Provider) routerName() string      { return p.o.App + "-router" }
func (p *Provider) stateVolume() string     { return p.o.App + "-router-state" }
func (p *Provider) logf(f string, a ...any) { fmt.Fprintf(p.o.Log, f+"\n", a...) }

// EnsureShared creates the app's network, the router's state volume and the
// router container, and waits for the router's admin API. Re-running it
// changes nothing; a router on another image is replaced, keeping its table.
func (p *Provider) EnsureShared(ctx context.Context) error {
	if err := p.ensureNetwork(ctx); err != nil {
		return err
	}
	if _, err := p.d.VolumeCreate(ctx, volume.CreateOptions{Name: p.stateVolume(), Labels: map[string]string{LabelApp: p.o.App, LabelRole: roleRouter}}); err != nil {
		return fmt.Errorf("create volume %s: %w", p.stateVolume(), err)
	}
	if err := p.ensureRouter(ctx); err != nil {
		return err
	}
	return p.waitRouter(ctx)
}

func (p *Provider) ensureNetwork(ctx context.Context) error {
	_, err := p.d.NetworkInspect(ctx, p.network(), network.InspectOptions{})
	if err == nil {
		return nil
	}
	p.logf("shared: creating network %s", p.network())
	_, err = p.d.NetworkCreate(ctx, p.network(), network.CreateOptions{
		Driver: "bridge",
		Labels: map[string]string{LabelApp: p.o.App, LabelRole: roleRouter},
	})
	if err != nil {
		return fmt.Errorf("create network %s: %w", p.network(), err)
	}
	return nil
}

func (p *Provider) ensureRouter(ctx context.Context) error {
	c, err := p.d.ContainerInspect(ctx, p.routerName())
	switch {
	case err == nil && c.Config != nil && c.Config.Image == p.o.RouterImage && c.State != nil && c.State.Running:
		return nil
	case err == nil && c.Config != nil && c.Config.Image == p.o.RouterImage:
		p.logf("shared: starting router %s", p.routerName())
		if err := p.d.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
			return fmt.Errorf("start router %s: %w", p.routerName(), err)
		}
		return nil
	case err == nil:
		p.logf("shared: replacing router %s with image %s (routes are kept in volume %s)", p.routerName(), short(p.o.RouterImage), p.stateVolume())
		stop := 10 // the router finishes in-flight requests on SIGTERM
		if err := p.d.ContainerStop(ctx, c.ID, container.StopOptions{Timeout: &stop}); err != nil {
			p.logf("shared: stop old router: %v (removing it anyway)", err)
		}
		if err := p.d.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil {
			return fmt.Errorf("remove old router %s: %w", p.routerName(), err)
		}
	}
	return p.createRouter(ctx)
}

func (p *Provider) createRouter(ctx context.Context) error {
	p.logf("shared: starting router %s on 127.0.0.1:%d (admin 127.0.0.1:%d)", p.routerName(), p.o.RouterPort, p.o.AdminPort)
	cfg := &container.Config{
		Image:        p.o.RouterImage,
		Cmd:          []string{"-listen", ":8080", "-admin", ":9000", "-state", "/var/lib/slipway-router"},
		Labels:       map[string]string{LabelApp: p.o.App, LabelRole: roleRouter, LabelStack: p.o.App + "-shared"},
		ExposedPorts: nat.PortSet{"8080/tcp": {}, "9000/tcp": {}},
	}
	host := &container.HostConfig{
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
		PortBindings: nat.PortMap{
			"8080/tcp": {{HostIP: "127.0.0.1", HostPort: strconv.Itoa(p.o.RouterPort)}},
			"9000/tcp": {{HostIP: "127.0.0.1", HostPort: strconv.Itoa(p.o.AdminPort)}},
		},
		Binds:       []string{p.stateVolume() + ":/var/lib/slipway-router"},
		NetworkMode: container.NetworkMode(p.network()),
	}
	resp, err := p.d.ContainerCreate(ctx, cfg, host, nil, nil, p.routerName())
	if err != nil {
		return fmt.Errorf("create router %s: %w", p.routerName(), err)
	}
	if err := p.d.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		return fmt.Errorf("start router %s (is port %d or %d taken? set SLIPWAY_ROUTER_PORT / SLIPWAY_ROUTER_ADMIN_PORT): %w", p.routerName(), p.o.RouterPort, p.o.AdminPort, err)
	}
	return nil
}

func (p *Provider) waitRouter(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		if _, err := p.router.Table(ctx); err == nil {
			return nil
		} else if ctx.Err() != nil {
			return fmt.Errorf("wait for router admin API on 127.0.0.1:%d: %w (see `docker logs %s`)", p.o.AdminPort, err, p.routerName())
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func short(ref string) string {
	if len(ref) > 19 {
		return ref[:19]
	}
	return ref
}

// SetRouterImage sets the image the shared stack's router runs.
func (p *Provider) SetRouterImage(ref string) { p.o.RouterImage = ref }
