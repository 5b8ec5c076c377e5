package local_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/local"
	"github.com/slipway/slipway/internal/router"
	"github.com/slipway/slipway/internal/testenv"
)

const (
	commitA = "aaaaaaa1111111111111111111111111111111aa"
	commitB = "bbbbbbb2222222222222222222222222222222bb"
)

// images are built once per test binary: the router and the app at two
// commits.
var images struct {
	once       sync.Once
	router     string
	appA, appB deploy.Image
	err        error
}

func buildImages(t testing.TB, cli *client.Client) {
	t.Helper()
	images.once.Do(func() {
		ctx := context.Background()
		b := &build.Builder{Engine: cli, ModuleDir: testenv.ModuleDir(t), AppImage: "slipway-test/app", RouterImage: "slipway-test/router", Rebuild: true}
		b.Rev = &build.Revision{Commit: commitA, Version: "test-a"}
		if images.router, images.err = b.BuildRouter(ctx); images.err != nil {
			return
		}
		if images.appA, images.err = b.Build(ctx, "test-a"); images.err != nil {
			return
		}
		b.Rev = &build.Revision{Commit: commitB, Version: "test-b"}
		images.appB, images.err = b.Build(ctx, "test-b")
	})
	if images.err != nil {
		t.Fatalf("build images: %v", images.err)
	}
}

// env is one app's local target, torn down when the test ends.
type env struct {
	t        testing.TB
	cli      *client.Client
	app      string
	port     int
	opts     local.Options
	provider *local.Provider
	flow     *deploy.Flow
	builder  *switchBuilder
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, 10, nil)
}

// newEnvWith is newEnv with n stack ports (0: none) and opts changed by
// edit before the provider is made.
func newEnvWith(t testing.TB, n int, edit func(*local.Options)) *env {
	t.Helper()
	cli := testenv.Docker(t)
	buildImages(t, cli)
	var rnd [3]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	app := "lt" + hex.EncodeToString(rnd[:])
	e := &env{t: t, cli: cli, app: app, port: testenv.FreePort(t)}
	e.opts = local.Options{
		App: app, RouterImage: images.router, RouterPort: e.port, AdminPort: testenv.FreePort(t),
		HealthTimeout: 20 * time.Second, DrainTimeout: 5 * time.Second, Log: testenv.Log(t),
	}
	if n > 0 {
		e.opts.StackPorts = freeRange(t, n)
	}
	if edit != nil {
		edit(&e.opts)
	}
	e.provider = local.New(cli, e.opts)
	e.builder = &switchBuilder{img: images.appA}
	e.flow = &deploy.Flow{App: app, Target: e.provider, Builder: e.builder, Tester: &httpTester{}, Routing: routing{app, e.port}, Log: testenv.Log(t)}
	t.Cleanup(func() {
		if err := local.Down(context.Background(), cli, app, false, testenv.Log(t)); err != nil {
			t.Errorf("local down: %v", err)
		}
	})
	if err := e.provider.EnsureShared(context.Background()); err != nil {
		t.Fatalf("ensure shared: %v", err)
	}
	return e
}

// freeRange finds n consecutive ports free on 127.0.0.1.
func freeRange(t testing.TB, n int) router.PortRange {
	t.Helper()
	first, last := testenv.FreePortRange(t, n)
	return router.PortRange{First: first, Last: last}
}

// switchBuilder returns an image built beforehand, as a builder with the
// image already built would.
type switchBuilder struct {
	mu  sync.Mutex
	img deploy.Image
}

func (b *switchBuilder) set(img deploy.Image) { b.mu.Lock(); b.img = img; b.mu.Unlock() }
func (b *switchBuilder) Build(context.Context, string) (deploy.Image, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.img, nil
}

type routing struct {
	app  string
	port int
}

func (r routing) PreviewHost(l string) string { return l + "." + r.app + ".localhost" }
func (r routing) ProductionHost() string      { return r.app + ".localhost" }
func (r routing) URL(h string) string         { return fmt.Sprintf("http://%s:%d", h, r.port) }
func (r routing) Dial(h string) (string, string) {
	return fmt.Sprintf("http://127.0.0.1:%d", r.port), h
}

// httpTester checks /version through the router, as the integration tests
// do (itest itself is covered in its own package).
type httpTester struct{}

func (httpTester) Test(ctx context.Context, tt deploy.TestTarget) (deploy.TestResult, error) {
	v, code, err := version(ctx, tt.BaseURL, tt.Host, tt.StackHeader)
	if err != nil {
		return deploy.TestResult{}, err
	}
	if code != http.StatusOK || v.Commit != tt.Commit {
		return deploy.TestResult{Failed: 1, Summary: fmt.Sprintf("got %d commit %q", code, v.Commit)}, nil
	}
	return deploy.TestResult{Passed: 1, OK: true, Summary: "version ok"}, nil
}

type versionInfo struct{ Version, Commit, Stack, Message string }

var httpc = &http.Client{Timeout: 10 * time.Second}

// version GETs /version through the router with a Host header.
func version(ctx context.Context, base, host, stack string) (versionInfo, int, error) {
	return getVersion(ctx, base+"/version", host, stack)
}

func getVersion(ctx context.Context, url, host, stack string) (versionInfo, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return versionInfo{}, 0, err
	}
	req.Host = host
	if stack != "" {
		req.Header.Set("X-Slipway-Stack", stack)
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return versionInfo{}, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return versionInfo{}, resp.StatusCode, err
	}
	var v versionInfo
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &v); err != nil {
			return v, resp.StatusCode, fmt.Errorf("decode %s: %w", body, err)
		}
	} else {
		v.Message = string(body)
	}
	return v, resp.StatusCode, nil
}

// commitAt returns the commit the host serves through the router.
func (e *env) commitAt(host string) (string, int) {
	e.t.Helper()
	v, code, err := version(context.Background(), fmt.Sprintf("http://127.0.0.1:%d", e.port), host, "")
	if err != nil {
		e.t.Fatalf("GET %s/version: %v", host, err)
	}
	return v.Commit, code
}

func (e *env) host(pr int) string { return fmt.Sprintf("pr-%d.%s.localhost", pr, e.app) }

// containers lists this app's container IDs, sorted, as one string.
func (e *env) containers() string {
	e.t.Helper()
	cs, err := e.cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", local.LabelApp+"="+e.app))})
	if err != nil {
		e.t.Fatal(err)
	}
	ids := make([]string, 0, len(cs))
	for _, c := range cs {
		ids = append(ids, c.ID[:12])
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

// commitAtSoft is commitAt without failing on connection errors.
func (e *env) commitAtSoft(host string) (string, int) {
	v, code, err := version(context.Background(), fmt.Sprintf("http://127.0.0.1:%d", e.port), host, "")
	if err != nil {
		return "", 0
	}
	return v.Commit, code
}

func localDown(ctx context.Context, e *env) error {
	return local.Down(ctx, e.cli, e.app, false, testenv.Log(e.t))
}

// waitInFlight polls the router until a target of stack has a request in
// flight.
func (e *env) waitInFlight(stack string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		st, err := e.provider.Router().Status(ctx)
		if err == nil {
			for _, ts := range st.Targets {
				if strings.HasPrefix(ts.Name, stack+"-") && ts.InFlight > 0 {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			e.t.Fatalf("no request in flight to %s: %v", stack, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitFor polls cond until it holds, for at most 30s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond) // the poll interval
	}
}

// leftovers lists the containers, networks and volumes labelled with app.
func leftovers(t *testing.T, cli *client.Client, app string) []string {
	t.Helper()
	ctx := context.Background()
	f := filters.NewArgs(filters.Arg("label", local.LabelApp+"="+app))
	var out []string
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		out = append(out, "container "+strings.Join(c.Names, ","))
	}
	ns, err := cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		out = append(out, "network "+n.Name)
	}
	vs, err := cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs.Volumes {
		out = append(out, "volume "+v.Name)
	}
	return out
}
