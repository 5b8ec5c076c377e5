package local

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/router"
)

// Docker is the part of the Docker Engine API the local target uses.
type Docker interface {
	ContainerAttach(ctx context.Context, id string, o container.AttachOptions) (types.HijackedResponse, error)
	ContainerCreate(ctx context.Context, config *container.Config, host *container.HostConfig, net *network.NetworkingConfig, platform *ocispec.Platform, name string) (container.CreateResponse, error)
	ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error)
	ContainerList(ctx context.Context, o container.ListOptions) ([]container.Summary, error)
	ContainerLogs(ctx context.Context, id string, o container.LogsOptions) (io.ReadCloser, error)
	ContainerRemove(ctx context.Context, id string, o container.RemoveOptions) error
	ContainerStart(ctx context.Context, id string, o container.StartOptions) error
	ContainerStop(ctx context.Context, id string, o container.StopOptions) error
	ContainerWait(ctx context.Context, id string, c container.WaitCondition) (<-chan container.WaitResponse, <-chan error)
	ImageInspect(ctx context.Context, ref string, o ...client.ImageInspectOption) (image.InspectResponse, error)
	ImagePull(ctx context.Context, ref string, o image.PullOptions) (io.ReadCloser, error)
	NetworkCreate(ctx context.Context, name string, o network.CreateOptions) (network.CreateResponse, error)
	NetworkInspect(ctx context.Context, id string, o network.InspectOptions) (network.Inspect, error)
	NetworkList(ctx context.Context, o network.ListOptions) ([]network.Summary, error)
	NetworkConnect(ctx context.Context, networkID, containerID string, config *network.EndpointSettings) error
	NetworkRemove(ctx context.Context, id string) error
	VolumeCreate(ctx context.Context, o volume.CreateOptions) (volume.Volume, error)
	VolumeInspect(ctx context.Context, id string) (volume.Volume, error)
	VolumeRemove(ctx context.Context, id string, force bool) error
}

// Options configure the local target.
type Options struct {
	App         string
	RouterImage string // image reference (ID or repo@digest) of the router
	// BuildRouter, when set, builds the router's image each time the
	// shared stack is ensured (a build of an unchanged router is a cache
	// hit); it replaces RouterImage.
	BuildRouter func(context.Context) (string, error)
	RouterPort  int // published on 127.0.0.1
	AdminPort   int // published on 127.0.0.1
	// Domain makes the production host <app>.<domain> (default
	// "localhost"), the only host production answers on.
	Domain        string
	HealthTimeout time.Duration
	DrainTimeout  time.Duration
	Log           io.Writer // progress, one line per event
	// DatabaseImage, when set (SLIPWAY_DATABASE on), is the image of the
	// app's Postgres server, which EnsureShared then starts (database.go, dbserver.go).
	DatabaseImage string
	// StackPorts is the router's range of stack ports (ports.go), published
	// on 127.0.0.1: each running stack gets one, its own URL. The zero
	// range gives stacks no URL of their own.
	StackPorts router.PortRange
	// Env reads the caller's environment, where the app's secrets are
	// (app.go); nil: os.Getenv.
	Env func(string) string
}

// Provider is a complete target: every method of the seam, checked here.
var _ deploy.Target = (*Provider)(nil)

// Provider implements deploy.Target on the local Docker engine.
type Provider struct {
	d      Docker
	o      Options
	router *router.Client

	tokenMu sync.Mutex
	token   string // the router's admin token, read from its container

	routerMu    sync.Mutex
	routerImage string // the router's image: Options.RouterImage, or what BuildRouter built

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
	if o.Domain == "" {
		o.Domain = "localhost"
	}
	if o.Env == nil {
		o.Env = os.Getenv
	}
	p := &Provider{d: d, o: o, routerImage: o.RouterImage}
	p.router = &router.Client{
		BaseURL: "http://127.0.0.1:" + strconv.Itoa(o.AdminPort),
		// The token goes on every request of this client, also ones built
		// by hand from BaseURL and HTTP.
		HTTP: &http.Client{Timeout: 10 * time.Second, Transport: tokenTransport{p}},
	}
	return p
}

// ProductionHosts are the hosts production answers on: <app>.<domain>,
// the production URL that config, demo and status print.
func (p *Provider) ProductionHosts() []string { return []string{p.o.App + "." + p.o.Domain} }

// Router returns the admin client of this app's router.
func (p *Provider) Router() *router.Client { return p.router }

func (p *Provider) network() string         { return "slipway-" + p.o.App }
func (p *Provider) routerName() string      { return p.o.App + "-router" }
func (p *Provider) stateVolume() string     { return p.o.App + "-router-state" }
func (p *Provider) logf(f string, a ...any) { fmt.Fprintf(p.o.Log, f+"\n", a...) }

func short(ref string) string {
	if len(ref) > 19 {
		return ref[:19]
	}
	return ref
}

// routerImageRef is the image the shared stack's router runs.
func (p *Provider) routerImageRef() string {
	p.routerMu.Lock()
	defer p.routerMu.Unlock()
	return p.routerImage
}
