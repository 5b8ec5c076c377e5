package local_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/local"
	"github.com/slipway/slipway/internal/router"
	"github.com/slipway/slipway/internal/testenv"
)

// Issue 10, item 3: a router port that is taken fails with a hint and
// leaves nothing behind; another port then works; changing the ports of a
// running router recreates it there, keeping its routes.
func TestRouterPortTakenFailsCleanlyAndAPortChangeRecreatesIt(t *testing.T) {
	cli := testenv.Docker(t)
	buildImages(t, cli)
	app := fmt.Sprintf("ltport%d", time.Now().UnixNano()%100000)
	t.Cleanup(func() {
		if err := local.Down(context.Background(), cli, app, false, testenv.Log(t)); err != nil {
			t.Errorf("local down: %v", err)
		}
	})
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = taken.Close() }()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	ctx := context.Background()
	opts := local.Options{App: app, RouterImage: images.router, RouterPort: takenPort, AdminPort: testenv.FreePort(t),
		HealthTimeout: 20 * time.Second, DrainTimeout: 2 * time.Second, Log: testenv.Log(t)}

	err = local.New(cli, opts).EnsureShared(ctx)
	if err == nil || !strings.Contains(err.Error(), "SLIPWAY_ROUTER_PORT") {
		t.Fatalf("EnsureShared on a taken port: %v, want an error naming SLIPWAY_ROUTER_PORT", err)
	}
	if left := leftovers(t, cli, app); len(left) != 0 {
		t.Fatalf("the failed start left %v", left)
	}

	opts.RouterPort = testenv.FreePort(t)
	p := local.New(cli, opts)
	if err := p.EnsureShared(ctx); err != nil {
		t.Fatalf("EnsureShared on a free port: %v", err)
	}
	e := &env{t: t, cli: cli, app: app, port: opts.RouterPort, provider: p, builder: &switchBuilder{img: images.appA}}
	e.flow = &deploy.Flow{App: app, Target: p, Builder: e.builder, Tester: &httpTester{}, Routing: routing{app, e.port}, Log: testenv.Log(t)}
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 1}); err != nil {
		t.Fatal(err)
	}

	var log strings.Builder
	opts.RouterPort, opts.AdminPort, opts.Log = testenv.FreePort(t), testenv.FreePort(t), &log
	moved := local.New(cli, opts)
	if err := moved.EnsureShared(ctx); err != nil {
		t.Fatalf("EnsureShared after a port change: %v", err)
	}
	if !strings.Contains(log.String(), "recreating it on the new ports") || !strings.Contains(log.String(), "routes are kept") {
		t.Fatalf("the port change was not announced: %q", log.String())
	}
	e.port = opts.RouterPort
	if c, code := e.commitAt(e.host(1)); c != commitA || code != 200 {
		t.Fatalf("on the new port pr-1 answers %d %q, want its commit %s", code, c, commitA)
	}
}

// Issue 7: app containers cannot change the table. The router serves its
// admin API only on its admin network, which no app container joins. From
// an app container (a probe in the app's own image on the app's network),
// the admin port by the router's name or app-network address refuses the
// connection and the admin address is unreachable, while the traffic port
// answers. From the host, which reaches both networks, the app-network
// address refuses too, and the admin address and the published port still
// want a loopback Host and the token. The table stays, and the provider
// still reads and writes it through the published port.
func TestAppNetworkCannotChangeTheTable(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 2}); err != nil {
		t.Fatal(err)
	}
	before, err := e.provider.Router().Table(ctx)
	if err != nil {
		t.Fatal(err)
	}
	appIP, adminIP := routerAddrs(t, e)
	put := func(base string) string { return "PUT," + base + "/table?allow_empty=true,127.0.0.1:9000" }
	got := runProbe(t, e, nil,
		"traffic port="+"GET,http://"+e.app+"-router:8080/version,"+e.host(2),
		"admin port by the router's name="+put("http://"+e.app+"-router:9000"),
		"admin port at the router's app-network address="+put("http://"+appIP+":9000"),
		"admin port at the router's admin address="+put("http://"+adminIP+":9000"),
	)
	for name, want := range map[string]string{
		"traffic port":                                   "status 200", // the probe reaches the router
		"admin port by the router's name":                "connection refused",
		"admin port at the router's app-network address": "connection refused",
		"admin port at the router's admin address":       "error ", // Docker drops it between networks
	} {
		if !strings.Contains(got[name], want) {
			t.Errorf("from an app container, %s: %q, want %q", name, got[name], want)
		}
	}
	// Linux takes a packet for any of its addresses on any interface: sent
	// to the admin address through the router's app-network interface (a
	// route here; forged frames for an app with the default NET_RAW), it
	// reaches the router, whose admin socket takes only what arrives on its
	// admin interface.
	got = runProbe(t, e, []string{"NET_ADMIN"},
		"route="+adminIP+","+appIP,
		"traffic port at the admin address="+"GET,http://"+adminIP+":8080/version,"+e.host(2),
		"admin port at the admin address="+put("http://"+adminIP+":9000"),
	)
	for name, want := range map[string]string{
		"route":                             "ok",
		"traffic port at the admin address": "status 200", // the packets reach the router
		"admin port at the admin address":   "connection refused",
	} {
		if !strings.Contains(got[name], want) {
			t.Errorf("from an app container routing through the router, %s: %q, want %q", name, got[name], want)
		}
	}

	tests := map[string]struct {
		base, host, token string
		want              string
	}{
		"from the host to the app-network address":                 {"http://" + appIP + ":9000", "127.0.0.1:9000", "", "connection refused"},
		"from the host to the admin address, by the router's name": {"http://" + adminIP + ":9000", e.app + "-router:9000", "", "status 403"},
		"from the host to the admin address, without the token":    {"http://" + adminIP + ":9000", "127.0.0.1:9000", "", "status 401"},
		"from the host to the admin address, with a guessed token": {"http://" + adminIP + ":9000", "127.0.0.1:9000", "guess", "status 401"},
		"through the published port with a foreign Host":           {e.provider.Router().BaseURL, "evil.example", "", "status 403"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rc := &router.Client{BaseURL: tc.base, Token: tc.token, HTTP: &http.Client{Timeout: 5 * time.Second,
				Transport: hostRewriter{host: tc.host}}}
			err := rc.Put(ctx, router.Table{}, router.PutOptions{AllowEmpty: true})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("PUT /table: %v, want %q", err, tc.want)
			}
		})
	}
	after, err := e.provider.Router().Table(ctx)
	if err != nil || len(after.Targets) != len(before.Targets) || len(after.Hosts) != len(before.Hosts) {
		t.Fatalf("the table changed: %+v -> %+v (%v)", before, after, err)
	}
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 3}); err != nil {
		t.Fatalf("the provider can no longer write the table: %v", err)
	}
	if c, code := e.commitAt(e.host(3)); c != commitA || code != 200 {
		t.Fatalf("pr-3 answers %d %q after the provider's write, want its commit %s", code, c, commitA)
	}
}

// routerAddrs are the router's addresses on the app network and on its
// admin network.
func routerAddrs(t *testing.T, e *env) (app, admin string) {
	t.Helper()
	c, err := e.cli.ContainerInspect(context.Background(), e.app+"-router")
	if err != nil {
		t.Fatal(err)
	}
	nets := c.NetworkSettings.Networks
	if nets["slipway-"+e.app] == nil || nets["slipway--"+e.app+"-admin"] == nil ||
		nets["slipway-"+e.app].IPAddress == "" || nets["slipway--"+e.app+"-admin"].IPAddress == "" {
		t.Fatalf("router is not on both its networks: %+v", nets)
	}
	return nets["slipway-"+e.app].IPAddress, nets["slipway--"+e.app+"-admin"].IPAddress
}

// A router made before the admin network (on the app network only, its
// admin API on every address) is replaced by the next EnsureShared, which
// says so; its routes survive in the state volume.
func TestARouterFromBeforeTheAdminNetworkIsReplacedKeepingItsRoutes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 1}); err != nil {
		t.Fatal(err)
	}
	c, err := e.cli.ContainerInspect(ctx, e.app+"-router")
	if err != nil {
		t.Fatal(err)
	}
	timeout := 5
	if err := e.cli.ContainerStop(ctx, c.ID, container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	if err := e.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	// The router as the provider made it before: same image, token, ports
	// and state volume, on the app network, no -admin-net.
	cfg, host := *c.Config, *c.HostConfig
	cfg.Cmd = []string{"-listen", ":8080", "-admin", ":9000", "-state", "/var/lib/slipway-router"}
	host.NetworkMode = container.NetworkMode("slipway-" + e.app)
	old, err := e.cli.ContainerCreate(ctx, &cfg, &host, nil, nil, e.app+"-router")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cli.ContainerStart(ctx, old.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}

	var log strings.Builder
	opts := e.opts
	opts.Log = io.MultiWriter(&log, testenv.Log(t))
	if err := local.New(e.cli, opts).EnsureShared(ctx); err != nil {
		t.Fatalf("EnsureShared over an old router: %v", err)
	}
	for _, want := range []string{"made before the admin network", "routes are kept in volume " + e.app + "-router-state"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("EnsureShared said %q, want %q", log.String(), want)
		}
	}
	appIP, _ := routerAddrs(t, e)
	rc := &router.Client{BaseURL: "http://" + appIP + ":9000", HTTP: &http.Client{Timeout: 5 * time.Second}}
	if _, err := rc.Table(ctx); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("the new router's app-network address, admin port: %v, want connection refused", err)
	}
	if got, code := e.commitAt(e.host(1)); got != commitA || code != 200 {
		t.Fatalf("after the replacement pr-1 answers %d %q, want its commit %s", code, got, commitA)
	}
}

// hostRewriter sends every request with the given Host header.
type hostRewriter struct{ host string }

func (h hostRewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Host = h.host
	return http.DefaultTransport.RoundTrip(req)
}

// Issue 10, item 12: SetProduction checks health in the same update and
// says which stack is unhealthy; traffic stays where it was.
func TestSetProductionRefusesAnUnhealthyStack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	res, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 3})
	if err != nil {
		t.Fatal(err)
	}
	target := ""
	st, err := e.provider.Router().Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range st.Targets {
		if strings.HasPrefix(ts.Name, res.Stack+"-") {
			target = ts.Name
		}
	}
	// Still running, but the router can no longer reach it.
	if err := e.cli.NetworkDisconnect(ctx, "slipway-"+e.app, target, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cut-off stack to turn unhealthy", func() bool {
		st, err := e.provider.Router().Status(ctx)
		for _, ts := range st.Targets {
			if ts.Name == target {
				return err == nil && !ts.Healthy
			}
		}
		return false
	})
	err = e.provider.SetProduction(ctx, []deploy.Weight{{Stack: res.Stack, Weight: 100}})
	var ue *local.UnhealthyError
	if !errors.As(err, &ue) || ue.Stack != res.Stack || ue.Target != target {
		t.Fatalf("SetProduction to an unhealthy stack: %v, want *local.UnhealthyError naming %s", err, res.Stack)
	}
	if routes, err := e.provider.Routes(ctx); err != nil || len(routes.Production) != 0 {
		t.Fatalf("production after the refusal: %+v (%v), want unchanged (none)", routes.Production, err)
	}
}

// Issue 10, item 12: Delete checks liveness inside the conditional write
// that removes the targets. Racing a Delete of a stack against moving
// production to it, at most one wins, and production never loses its
// only target.
func TestDeleteRacingSetProductionNeverEmptiesProduction(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.flow.Release(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		res, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 20 + round})
		if err != nil {
			t.Fatal(err)
		}
		setErr, delErr := make(chan error, 1), make(chan error, 1)
		go func() { setErr <- e.provider.SetProduction(ctx, []deploy.Weight{{Stack: res.Stack, Weight: 100}}) }()
		go func() { delErr <- e.provider.Delete(ctx, res.Stack) }()
		se, de := <-setErr, <-delErr
		if se == nil && de == nil {
			t.Fatalf("round %d: both SetProduction and Delete of %s succeeded", round, res.Stack)
		}
		routes, err := e.provider.Routes(ctx)
		if err != nil || len(routes.Live()) != 1 {
			t.Fatalf("round %d: live stacks %v (%v) after SetProduction=%v Delete=%v; want exactly one", round, routes.Live(), err, se, de)
		}
		if c, code := e.commitAt(e.app + ".localhost"); code != 200 || c == "" {
			t.Fatalf("round %d: production answers %d", round, code)
		}
	}
}
