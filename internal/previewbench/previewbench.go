// Package previewbench measures "preview deploy with the image already
// built" on the local target: how long after the deploy starts the preview
// URL serves the new commit, and how long the deploy (integration tests
// included) takes. It prints the figures and where the time goes; it
// asserts nothing, because a timing on a shared machine is a measurement,
// not a test result.
//
// The images (router and app, at two synthetic commits) are built once
// before anything is timed. Each timed deploy then does what
// `go run mage.go preview:deploy` does once its session is open, through the
// same pieces: PrepareRouter and the real build.Builder (which finds the
// images already built and reuses them), the local provider,
// and the routing and tester the command uses (`go test` of the integration
// tests). The router image is the one built from the router's own sources,
// as the command builds it, so deploying an app commit does not replace it.
package previewbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/config"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/itest"
	"github.com/slipway/slipway/internal/local"
	"github.com/slipway/slipway/internal/naming"
)

// Goal is the target: the URL serves the new commit this long after
// the command starts (median of 5).
const Goal = 3 * time.Second

// previewPR is the pull request number every deploy of a run uses.
const previewPR = 1

// Image repositories the benchmark builds into; its images are removed at
// the end of each run.
const (
	appRepo    = "slipway-bench/app"
	routerRepo = "slipway-bench/router"
)

// Options size a run. Zero values take the defaults.
type Options struct {
	ModuleDir string        // the Slipway checkout (default: found from the working directory)
	Rounds    int           // measured deploys per scenario, after an unmeasured first one (default 5)
	MaxTotal  time.Duration // bound on the whole run, set-up and tear-down included (default 5m)
	Log       io.Writer     // progress, one line per event (default: none)
	// Mage also times `go run mage.go config`: what the zero-install
	// bootstrap costs before any target starts. Off by default: with a Go
	// build cache, mage recompiles the magefile on every run, writing
	// magefiles/mage_output_file.go meanwhile.
	Mage bool
}

func (o *Options) defaults() error {
	if os.Getenv("SLIPWAY_REBUILD") != "" {
		return errors.New("start preview benchmark: SLIPWAY_REBUILD is set, so no image would be reused: unset it (the benchmark is about deploys whose images are already built)")
	}
	if o.ModuleDir == "" {
		dir, err := build.ModuleDir()
		if err != nil {
			return err
		}
		o.ModuleDir = dir
	}
	if o.Rounds <= 0 {
		o.Rounds = 5
	}
	if o.MaxTotal <= 0 {
		o.MaxTotal = 5 * time.Minute
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return nil
}

// bench is one run: a throwaway app on the local Docker engine.
type bench struct {
	o        Options
	cli      *client.Client
	app      string
	cfg      config.Config
	revs     [2]build.Revision // commits A and B
	builder  *build.Builder
	provider *local.Provider
	flow     *deploy.Flow
	// the commits of this round's router and app images (buildRouter)
	routerRev, appRev build.Revision
	rec               *recorder
}

// Run measures, in each scenario, Rounds preview deploys with the images
// already built, and writes the report to out. Everything it creates (containers, network,
// volume, images) is removed before it returns, also on error or when ctx
// ends.
func Run(ctx context.Context, o Options, out io.Writer) (err error) {
	if err := o.defaults(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.MaxTotal)
	defer cancel()
	cli, err := local.Connect(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = cli.Close() }() // a client close frees nothing remote
	b, err := newBench(o, cli)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.teardown(ctx)) }()
	if err := b.prepare(ctx); err != nil {
		return b.explain(ctx, err)
	}
	var tables []table
	for _, sc := range scenarios {
		t, err := b.rounds(ctx, sc)
		tables = append(tables, t)
		if err != nil {
			_ = report(out, b.header(), tables, nil) // what was measured before the failure
			return b.explain(ctx, err)
		}
	}
	fixed, err := b.fixedCosts(ctx)
	if err != nil {
		return b.explain(ctx, err)
	}
	return report(out, b.header(), tables, fixed)
}

// explain adds what to do when the run ran out of time.
func (b *bench) explain(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w (the run is bounded by MaxTotal %s: lower Rounds or raise MaxTotal)", err, b.o.MaxTotal)
	}
	return err
}

func newBench(o Options, cli *client.Client) (*bench, error) {
	hexes, err := randomHex(3 + 20 + 20)
	if err != nil {
		return nil, err
	}
	b := &bench{o: o, cli: cli, app: "pb" + hexes[:6]}
	b.revs[0] = build.Revision{Commit: hexes[6:46], Version: "bench-a"}
	b.revs[1] = build.Revision{Commit: hexes[46:86], Version: "bench-b"}
	if naming.ShortCommit(b.revs[0].Commit) == naming.ShortCommit(b.revs[1].Commit) {
		return nil, errors.New("choose bench commits: two random commits share a short SHA; run again")
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	b.cfg, err = config.Load(func(k string) string {
		return map[string]string{
			"SLIPWAY_APP": b.app, "SLIPWAY_TARGET": config.TargetLocal,
			"SLIPWAY_ROUTER_PORT": strconv.Itoa(ports[0]), "SLIPWAY_ROUTER_ADMIN_PORT": strconv.Itoa(ports[1]),
			"SLIPWAY_APP_IMAGE": appRepo, "SLIPWAY_ROUTER_IMAGE": routerRepo,
		}[k]
	})
	if err != nil {
		return nil, fmt.Errorf("configure bench app %s: %w", b.app, err)
	}
	b.rec = &recorder{log: o.Log}
	return b, nil
}

// prepare builds the images, brings up the shared stack and wires the flow
// the way commands.Open does, with timing seams around each piece.
func (b *bench) prepare(ctx context.Context) error {
	w := b.rec.writer()
	fmt.Fprintf(w, "bench: app %s, router on 127.0.0.1:%d, commits A %s and B %s", b.app, b.cfg.RouterPort, naming.ShortCommit(b.revs[0].Commit), naming.ShortCommit(b.revs[1].Commit))
	b.builder = &build.Builder{Engine: b.cli, ModuleDir: b.o.ModuleDir, AppImage: b.cfg.AppImage, RouterImage: b.cfg.RouterImage, Log: w}
	routerID, err := b.prebuild(ctx)
	if err != nil {
		return err
	}
	b.routerRev, b.appRev = b.revs[0], b.revs[0]
	docker := timedDocker{Docker: b.cli, rec: b.rec, router: b.app + "-router", routers: &sync.Map{}}
	b.provider = local.New(docker, local.Options{
		App: b.app, RouterImage: routerID, BuildRouter: b.buildRouter, RouterPort: b.cfg.RouterPort, AdminPort: b.cfg.AdminPort,
		HealthTimeout: b.cfg.HealthTimeout, DrainTimeout: b.cfg.DrainTimeout, Log: w,
	})
	b.flow = &deploy.Flow{
		App: b.app, Target: timedProvider{Target: b.provider, rec: b.rec},
		Builder: timedBuilder{b: b.builder, rec: b.rec},
		Tester:  timedTester{t: itest.Tester{ModuleDir: b.o.ModuleDir, Log: w}, rec: b.rec},
		Routing: b.cfg, Log: w,
	}
	if err := b.provider.EnsureShared(ctx); err != nil {
		return fmt.Errorf("bring up the shared stack of %s: %w", b.app, err)
	}
	return nil
}

// prebuild builds the router and the app at both commits, untimed: the
// benchmark is about deploys whose images are already built. It returns
// the ID of the router at commit A.
func (b *bench) prebuild(ctx context.Context) (string, error) {
	var routers []string
	for i := range b.revs {
		b.builder.Rev = &b.revs[i]
		id, err := b.builder.BuildRouter(ctx)
		if err != nil {
			return "", fmt.Errorf("build router image at %s: %w", naming.ShortCommit(b.revs[i].Commit), err)
		}
		routers = append(routers, id)
		_, err = b.builder.Build(ctx, "bench")
		if err != nil {
			return "", fmt.Errorf("build app image at %s: %w", naming.ShortCommit(b.revs[i].Commit), err)
		}
	}
	return routers[0], nil
}

// teardown removes the app's containers, network and volume, then the
// images this run built. It runs even when ctx has ended.
func (b *bench) teardown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	var errs []error
	if err := local.Down(ctx, b.cli, b.app, false, b.rec.writer()); err != nil {
		errs = append(errs, fmt.Errorf("tear down bench app %s: %w", b.app, err))
	}
	errs = append(errs, b.untagImages(ctx))
	return errors.Join(errs...)
}

// untagImages removes the benchmark's own tags. It never removes an image
// by ID: identical builds share an ID (the build cache), and another run or
// test may hold the same image under its own tag at this moment.
func (b *bench) untagImages(ctx context.Context) error {
	var errs []error
	for _, repo := range []string{appRepo, routerRepo} {
		list, err := b.cli.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("reference", repo))})
		if err != nil {
			errs = append(errs, fmt.Errorf("list bench images %s: %w", repo, err))
			continue
		}
		for _, im := range list {
			for _, tag := range im.RepoTags {
				if !strings.HasPrefix(tag, repo+":") {
					continue
				}
				if _, err := b.cli.ImageRemove(ctx, tag, image.RemoveOptions{PruneChildren: true}); err != nil && !cerrdefs.IsNotFound(err) {
					errs = append(errs, fmt.Errorf("remove bench image %s: %w", tag, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func randomHex(n int) (string, error) {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return hex.EncodeToString(buf), nil
}

// freePorts returns n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer func() { _ = l.Close() }() // held open until all are chosen, so they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
