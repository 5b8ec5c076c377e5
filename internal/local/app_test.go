package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/local"
	"github.com/slipway/slipway/internal/manifest"
	"github.com/slipway/slipway/internal/testenv"
)

const commitC = "ccccccc3333333333333333333333333333333cc"

// portapp is testdata/portapp's image, built once per test binary: an app
// on port 9090 whose health check is /up (/healthz answers 404).
var portapp struct {
	once sync.Once
	img  deploy.Image
	err  error
}

func buildPortapp(t testing.TB, cli *client.Client) deploy.Image {
	t.Helper()
	portapp.once.Do(func() {
		id, err := image.BuildGo(context.Background(), cli, image.GoImage{
			ModuleDir: testenv.ModuleDir(t), Package: "./internal/local/testdata/portapp",
			Dockerfile: testenv.ModuleDir(t) + "/internal/local/testdata/portapp/Dockerfile",
			Version:    "test-c", Commit: commitC, Tags: []string{"slipway-test/portapp:test-c"},
		}, testenv.Log(t))
		portapp.img, portapp.err = deploy.Image{Ref: id, Digest: id, Commit: commitC, Version: "test-c"}, err
	})
	if portapp.err != nil {
		t.Fatalf("build portapp: %v", portapp.err)
	}
	return portapp.img
}

// portappManifest is portapp's slipway.yaml as config would make it
// effective: its port, health check, variables and one secret.
func portappManifest(secretVar string) *manifest.Manifest {
	m := manifest.Default()
	m.Port = 9090
	m.Health = manifest.Health{Path: "/up", Interval: 200 * time.Millisecond, Timeout: time.Second, HealthyThreshold: 1, UnhealthyThreshold: 3}
	m.Env = map[string]string{"GREETING": "hello", "STAGE": "any"}
	m.Preview.Env = map[string]string{"STAGE": "preview"}
	m.Production.Env = map[string]string{"STAGE": "production"}
	m.Secrets = map[string]string{"API_TOKEN": secretVar}
	return m
}

// appEnv is a local target running portapp from its manifest, with the
// secret's variable set to secret in the caller's environment (Env) and
// everything the provider and flow say kept in log.
type appEnv struct {
	*env
	secret string
	log    *testenv.SyncBuffer
	tests  *plainTester
}

func newAppEnv(t *testing.T, ports int) *appEnv {
	t.Helper()
	secret := fmt.Sprintf("s3cr3t-%d", time.Now().UnixNano())
	log := &testenv.SyncBuffer{}
	out := io.MultiWriter(log, testenv.Log(t))
	e := newEnvWith(t, ports, func(o *local.Options) {
		o.Log = out
		o.Env = func(k string) string {
			if k == "PORTAPP_API_TOKEN" {
				return secret
			}
			return ""
		}
	})
	a := &appEnv{env: e, secret: secret, log: log, tests: &plainTester{}}
	e.builder.set(buildPortapp(t, e.cli))
	e.flow.Manifest, e.flow.Tester, e.flow.Log = portappManifest("PORTAPP_API_TOKEN"), a.tests, out
	a.tests.routes = e.provider.Routes
	return a
}

// whoami is what portapp says about itself.
type whoami struct{ Stack, Port, Commit, Host string }

// plainGet GETs url as any client does: no Host header of its own, no
// stack header, no cookie.
func plainGet(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func whoAmI(url string) (whoami, error) {
	code, body, err := plainGet(url + "/whoami")
	if err != nil {
		return whoami{}, err
	}
	if code != http.StatusOK {
		return whoami{}, fmt.Errorf("GET %s/whoami: %d %s", url, code, body)
	}
	var w whoami
	return w, json.Unmarshal([]byte(body), &w)
}

// plainTester is the app's test command as any team's would be: a plain
// GET of SLIPWAY_URL. It fails when it is given a Host or stack header to
// send, and records each URL with the production weights at that moment.
type plainTester struct {
	mu     sync.Mutex
	runs   []testRun
	routes func(context.Context) (deploy.Routes, error)
}

type testRun struct {
	url, stack string
	live       []string // stacks with production traffic while the tests ran
}

func (p *plainTester) Test(ctx context.Context, tt deploy.TestTarget) (deploy.TestResult, error) {
	if tt.Host != "" || tt.StackHeader != "" {
		return deploy.TestResult{Failed: 1, Summary: fmt.Sprintf("asked to send Host %q, X-Slipway-Stack %q", tt.Host, tt.StackHeader)}, nil
	}
	r, err := p.routes(ctx)
	if err != nil {
		return deploy.TestResult{}, err
	}
	p.mu.Lock()
	p.runs = append(p.runs, testRun{url: tt.BaseURL, stack: tt.Stack, live: r.Live()})
	p.mu.Unlock()
	w, err := whoAmI(tt.BaseURL)
	if err != nil {
		return deploy.TestResult{Failed: 1, Summary: err.Error()}, nil
	}
	if w.Stack != tt.Stack || w.Commit != tt.Commit {
		return deploy.TestResult{Failed: 1, Summary: fmt.Sprintf("%s is stack %s commit %s, want %s %s", tt.BaseURL, w.Stack, w.Commit, tt.Stack, tt.Commit)}, nil
	}
	return deploy.TestResult{Passed: 1, OK: true, Summary: "whoami ok at " + tt.BaseURL}, nil
}

func (p *plainTester) last() testRun {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runs[len(p.runs)-1]
}

// An app on its own port (9090) with its own health path (/up, where
// /healthz fails) deploys, becomes healthy and answers at its stack's URL
// to a plain GET with no Host header, with its variables; the tests ran
// there; status shows that URL, and the *.localhost URL still works.
func TestAppOnItsOwnPortAndHealthPathAnswersAtItsStackURL(t *testing.T) {
	e := newAppEnv(t, 3)
	ctx := context.Background()
	res, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 1, Env: map[string]string{"APP_MESSAGE": "hi"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.StackURL, "http://127.0.0.1:") || e.tests.last().url != res.StackURL {
		t.Fatalf("stack URL %q, tests ran at %q", res.StackURL, e.tests.last().url)
	}
	w, err := whoAmI(res.StackURL)
	if err != nil || w.Stack != e.app+"-pr-1" || w.Port != "9090" || w.Commit != commitC {
		t.Fatalf("GET %s/whoami: %+v %v, want stack %s-pr-1 on port 9090", res.StackURL, w, err, e.app)
	}
	for name, want := range map[string]string{"GREETING": "hello", "STAGE": "preview", "APP_MESSAGE": "hi", "PORT": "9090"} {
		if code, got, err := plainGet(res.StackURL + "/env/" + name); err != nil || code != 200 || got != want {
			t.Errorf("the app's %s is %q (%d %v), want %q", name, got, code, err, want)
		}
	}
	rows, err := e.flow.Status(ctx)
	if err != nil || len(rows) != 1 || rows[0].StackURL != res.StackURL {
		t.Fatalf("status rows %+v (%v), want the stack URL %s", rows, err, res.StackURL)
	}
	var out bytes.Buffer
	if err := deploy.PrintStatus(&out, rows); err != nil || !strings.Contains(out.String(), res.StackURL) {
		t.Fatalf("status does not show %s:\n%s", res.StackURL, out.String())
	}
	if w, code, err := hostWhoami(e.env, e.host(1)); err != nil || code != 200 || w.Stack != e.app+"-pr-1" {
		t.Fatalf("the preview's host URL answers %d %+v %v", code, w, err)
	}
}

// hostWhoami asks the router's traffic port for host's /whoami, as a
// browser opening the *.localhost URL does.
func hostWhoami(e *env, host string) (whoami, int, error) {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/whoami", e.port), nil)
	if err != nil {
		return whoami{}, 0, err
	}
	req.Host = host
	resp, err := httpc.Do(req)
	if err != nil {
		return whoami{}, 0, err
	}
	defer resp.Body.Close()
	var w whoami
	if resp.StatusCode == http.StatusOK {
		err = json.NewDecoder(resp.Body).Decode(&w)
	}
	return w, resp.StatusCode, err
}

// Two previews get two ports; a re-deploy (a new container) keeps the
// stack's port; destroying a preview frees its port, which then answers
// 404, and the next new stack gets it.
func TestEachStackKeepsItsPortUntilItIsDestroyed(t *testing.T) {
	e := newAppEnv(t, 3)
	ctx := context.Background()
	one, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 1})
	if err != nil {
		t.Fatal(err)
	}
	two, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 2})
	if err != nil {
		t.Fatal(err)
	}
	if one.StackURL == "" || one.StackURL == two.StackURL {
		t.Fatalf("pr-1 at %q, pr-2 at %q: want two URLs", one.StackURL, two.StackURL)
	}
	for url, stack := range map[string]string{one.StackURL: e.app + "-pr-1", two.StackURL: e.app + "-pr-2"} {
		if w, err := whoAmI(url); err != nil || w.Stack != stack {
			t.Fatalf("%s is %+v (%v), want %s", url, w, err, stack)
		}
	}
	before := e.containers()
	again, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 1, Env: map[string]string{"APP_MESSAGE": "changed"}})
	if err != nil {
		t.Fatal(err)
	}
	if e.containers() == before {
		t.Fatal("a changed environment did not replace the container")
	}
	if again.StackURL != one.StackURL {
		t.Fatalf("the re-deploy moved pr-1 from %s to %s", one.StackURL, again.StackURL)
	}
	if code, got, err := plainGet(again.StackURL + "/env/APP_MESSAGE"); err != nil || code != 200 || got != "changed" {
		t.Fatalf("after the re-deploy %s serves APP_MESSAGE %q (%d %v)", again.StackURL, got, code, err)
	}
	if err := e.flow.DestroyPreview(ctx, deploy.PreviewRequest{PR: 1}); err != nil {
		t.Fatal(err)
	}
	if code, body, err := plainGet(one.StackURL + "/whoami"); err != nil || code != http.StatusNotFound || !strings.Contains(body, "no stack has port") {
		t.Fatalf("the destroyed preview's URL answers %d %q (%v), want 404 saying no stack has the port", code, body, err)
	}
	three, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 3})
	if err != nil {
		t.Fatal(err)
	}
	if three.StackURL != one.StackURL {
		t.Fatalf("pr-3 got %s, want the port pr-1 freed (%s)", three.StackURL, one.StackURL)
	}
}

// A release candidate is tested at its own URL while production traffic
// still goes to the release before it; it has production's variables; a
// previous release scaled to zero loses its URL and gets one back when it
// is scaled up.
func TestReleaseCandidateIsTestedAtItsOwnURLBeforeTraffic(t *testing.T) {
	e := newAppEnv(t, 3)
	ctx := context.Background()
	first, err := e.flow.Release(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.flow.Now = func() time.Time { return time.Now().Add(time.Hour) }
	second, err := e.flow.Release(ctx, map[string]string{"APP_MESSAGE": "v2"})
	if err != nil {
		t.Fatal(err)
	}
	run := e.tests.last()
	if run.stack != second.Stack || run.url != second.StackURL || second.StackURL == first.StackURL {
		t.Fatalf("the candidate %s (own URL %s) was tested at %s as %s", second.Stack, second.StackURL, run.url, run.stack)
	}
	if len(run.live) != 1 || run.live[0] != first.Stack {
		t.Fatalf("while the candidate was tested production went to %v, want only %s", run.live, first.Stack)
	}
	if code, got, err := plainGet(second.StackURL + "/env/STAGE"); err != nil || code != 200 || got != "production" {
		t.Fatalf("the release's STAGE is %q (%d %v), want production", got, code, err)
	}
	if w, code, err := hostWhoami(e.env, e.app+".localhost"); err != nil || code != 200 || w.Stack != second.Stack {
		t.Fatalf("production answers %d %+v (%v), want %s", code, w, err, second.Stack)
	}
	if err := e.provider.ScaleDown(ctx, first.Stack); err != nil {
		t.Fatal(err)
	}
	if url := stackURL(t, e.env, first.Stack); url != "" {
		t.Fatalf("a stack scaled to zero still has the URL %s", url)
	}
	if err := e.provider.ScaleUp(ctx, first.Stack); err != nil {
		t.Fatal(err)
	}
	url := stackURL(t, e.env, first.Stack)
	if w, err := whoAmI(url); err != nil || w.Stack != first.Stack {
		t.Fatalf("scaled up again, %s answers at %q: %+v %v", first.Stack, url, w, err)
	}
}

// stackURL is what Stacks says the stack's URL is.
func stackURL(t *testing.T, e *env, stack string) string {
	t.Helper()
	stacks, err := e.provider.Stacks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stacks {
		if s.Name == stack {
			return s.URL
		}
	}
	t.Fatalf("no stack %s", stack)
	return ""
}

// A secret comes from the caller's environment into the container's, and
// nowhere else: no label, no log line, no status output, not the router's
// table. A missing one stops the deploy naming the variable, before any
// container starts.
func TestSecretReachesTheContainerAndNothingElse(t *testing.T) {
	e := newAppEnv(t, 3)
	ctx := context.Background()
	res, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 1})
	if err != nil {
		t.Fatal(err)
	}
	if code, got, err := plainGet(res.StackURL + "/env/API_TOKEN"); err != nil || code != 200 || got != e.secret {
		t.Fatalf("the app's API_TOKEN is %q (%d %v), want the caller's PORTAPP_API_TOKEN", got, code, err)
	}
	var seen []string
	cs, err := e.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", local.LabelApp+"="+e.app))})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		for k, v := range c.Labels {
			seen = append(seen, "label "+k+"="+v)
		}
	}
	rows, err := e.flow.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var status bytes.Buffer
	if err := deploy.PrintStatus(&status, rows); err != nil {
		t.Fatal(err)
	}
	table, err := e.provider.Router().Table(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tj, err := json.Marshal(table)
	if err != nil {
		t.Fatal(err)
	}
	seen = append(seen, "status "+status.String(), "router table "+string(tj))
	seen = append(seen, e.log.Lines()...)
	for _, s := range seen {
		if strings.Contains(s, e.secret) {
			t.Fatalf("the secret's value shows in %s", s)
		}
	}

	e.flow.Manifest.Secrets["OTHER_TOKEN"] = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other"
	before := e.containers()
	_, err = e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 2})
	if err == nil || !strings.Contains(err.Error(), "OTHER_TOKEN is not set") || !strings.Contains(err.Error(), "export it") {
		t.Fatalf("a deploy without its secret's variable: %v, want it to name OTHER_TOKEN", err)
	}
	t.Logf("the user sees: %v", err)
	if e.containers() != before {
		t.Fatal("a deploy without its secret started a container")
	}
}

// When every stack port is taken, a deploy stops before it starts
// anything, and says what to set.
func TestExhaustedStackPortsSayWhatToSet(t *testing.T) {
	e := newAppEnv(t, 1)
	ctx := context.Background()
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 1}); err != nil {
		t.Fatal(err)
	}
	before := e.containers()
	_, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 2})
	var full *local.PortsExhaustedError
	if !errors.As(err, &full) || !strings.Contains(err.Error(), "set SLIPWAY_ROUTER_STACK_PORTS to a wider range") ||
		!strings.Contains(err.Error(), e.app+"-pr-1") {
		t.Fatalf("deploy with every port taken: %v, want what to set and who holds the ports", err)
	}
	t.Logf("the user sees: %v", err)
	if e.containers() != before {
		t.Fatal("a deploy with no port free started a container")
	}
}

// A router without stack ports (one from before them) or on another range
// is recreated on the next EnsureShared, keeping its table, and every
// running stack gets a port of the range the settings name.
func TestStacksGetPortsWhenTheRangeIsNewOrChanges(t *testing.T) {
	e := newAppEnv(t, 0)
	e.flow.Tester = okTester{} // the tests go by host here: there is no stack URL yet
	ctx := context.Background()
	res, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.StackURL != "" {
		t.Fatalf("without stack ports the preview got the URL %s", res.StackURL)
	}
	for _, n := range []int{2, 3} {
		o := e.opts
		o.StackPorts = freeRange(t, n)
		p := local.New(e.cli, o)
		if err := p.EnsureShared(ctx); err != nil {
			t.Fatal(err)
		}
		stacks, err := p.Stacks(ctx)
		if err != nil || len(stacks) != 1 || stacks[0].URL != fmt.Sprintf("http://127.0.0.1:%d", o.StackPorts.First) {
			t.Fatalf("with stack ports %s the stacks are %+v (%v), want pr-1 on the first", o.StackPorts, stacks, err)
		}
		if w, err := whoAmI(stacks[0].URL); err != nil || w.Stack != e.app+"-pr-1" {
			t.Fatalf("%s answers %+v (%v)", stacks[0].URL, w, err)
		}
	}
	if !strings.Contains(e.log.String(), "but SLIPWAY_ROUTER_STACK_PORTS says stack ports") {
		t.Fatalf("the router's replacement was not explained:\n%s", e.log.String())
	}
}

// okTester passes every stack.
type okTester struct{}

func (okTester) Test(context.Context, deploy.TestTarget) (deploy.TestResult, error) {
	return deploy.TestResult{Passed: 1, OK: true, Summary: "ok"}, nil
}

// The clients a team's tests use reach each preview at its stack URL with
// no DNS set-up and no header, and each URL gives its own stack.
func TestStackURLsAnswerCurlPythonAndNode(t *testing.T) {
	clients := map[string][]string{
		"curl":            {testenv.Binary(t, "curl", "install curl"), "-fsS"},
		"Python's urllib": {testenv.Binary(t, "python3", "install Python 3 (python3 on PATH)"), "-c", "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())"},
		"Node's fetch":    {testenv.Binary(t, "node", "install Node.js 18 or later (node on PATH)"), "-e", "fetch(process.argv[1]).then(r => r.text()).then(t => console.log(t), e => { console.error(e); process.exit(1) })"},
	}
	e := newAppEnv(t, 3)
	ctx := context.Background()
	urls := map[string]string{}
	for _, pr := range []int{1, 2} {
		res, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: pr})
		if err != nil {
			t.Fatal(err)
		}
		urls[res.Stack] = res.StackURL
	}
	for name, argv := range clients {
		t.Run(name, func(t *testing.T) {
			for stack, url := range urls {
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				out, err := exec.CommandContext(cctx, argv[0], append(argv[1:], url+"/whoami")...).CombinedOutput()
				cancel()
				if err != nil || !strings.Contains(string(out), `"stack":"`+stack+`"`) {
					t.Fatalf("%s GET %s/whoami: %v\n%s\nwant stack %s", name, url, err, out, stack)
				}
			}
		})
	}
}
