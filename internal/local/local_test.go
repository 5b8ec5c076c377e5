package local_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/local"
	"github.com/slipway/slipway/internal/router"
	"github.com/slipway/slipway/internal/testenv"
)

func TestPreviewsAreIsolatedAndDestroyingOneLeavesTheOther(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 1}); err != nil {
		t.Fatal(err)
	}
	e.builder.set(images.appB)
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 2}); err != nil {
		t.Fatal(err)
	}
	if c, code := e.commitAt(e.host(1)); c != commitA || code != 200 {
		t.Fatalf("pr-1 serves %q (%d), want %s", c, code, commitA)
	}
	if c, code := e.commitAt(e.host(2)); c != commitB || code != 200 {
		t.Fatalf("pr-2 serves %q (%d), want %s", c, code, commitB)
	}
	if err := e.flow.DestroyPreview(ctx, deploy.PreviewRequest{PR: 1}); err != nil {
		t.Fatal(err)
	}
	if v, code, err := version(ctx, fmt.Sprintf("http://127.0.0.1:%d", e.port), e.host(1), ""); err != nil || code != http.StatusNotFound ||
		!strings.Contains(v.Message, fmt.Sprintf("no environment matches this host: %q", e.host(1))) {
		t.Fatalf("destroyed pr-1 answers %d %q (%v), want 404 naming the host", code, v.Message, err)
	}
	if c, _ := e.commitAt(e.host(2)); c != commitB {
		t.Fatalf("pr-2 stopped serving its commit after pr-1 was destroyed: %q", c)
	}
	if err := e.flow.DestroyPreview(ctx, deploy.PreviewRequest{PR: 1}); err != nil {
		t.Fatalf("a second destroy should change nothing and succeed: %v", err)
	}
	stacks, err := e.provider.Stacks(ctx)
	if err != nil || len(stacks) != 1 || stacks[0].Name != e.app+"-pr-2" || stacks[0].Commit != commitB || stacks[0].PR != 2 {
		t.Fatalf("labels say %+v (%v), want only %s-pr-2", stacks, err, e.app)
	}
}

func TestSecondDeployOfTheSameCommitChangesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 5}); err != nil {
		t.Fatal(err)
	}
	before := e.containers()
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 5}); err != nil {
		t.Fatal(err)
	}
	if after := e.containers(); after != before {
		t.Fatalf("containers changed on a re-deploy: %s -> %s", before, after)
	}
}

func TestRouterRestartKeepsTheRoutes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 3}); err != nil {
		t.Fatal(err)
	}
	timeout := 5
	if err := e.cli.ContainerRestart(ctx, e.app+"-router", container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, code := e.commitAtSoft(e.host(3))
		if c == commitA && code == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a router restart pr-3 answers %d %q, want commit %s", code, c, commitA)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestBadTableIsRefusedAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 4}); err != nil {
		t.Fatal(err)
	}
	rc := e.provider.Router()
	before, err := rc.Table(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bad := before
	bad.Hosts = append(append([]router.HostRule(nil), before.Hosts...), router.HostRule{Host: "x.localhost", Target: "no-such-target"})
	err = rc.Replace(ctx, bad)
	var te *router.TableError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "no-such-target") {
		t.Fatalf("bad table: err = %v, want a TableError naming the unknown target", err)
	}
	after, err := rc.Table(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("table changed:\n%+v\n%+v", before, after)
	}
	if c, _ := e.commitAt(e.host(4)); c != commitA {
		t.Fatalf("pr-4 no longer serves after a refused table: %q", c)
	}
}

// A new commit replaces the preview with no failed request, and a slow
// request in flight on the old version finishes while it drains.
func TestNewCommitReplacesThePreviewWithoutAGapAndDrains(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 6}); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", e.port)
	slow := make(chan error, 1)
	go func() {
		v, code, err := getVersion(ctx, base+"/slow?ms=2000", e.host(6), "")
		if err == nil && (code != 200 || v.Commit != commitA) {
			err = fmt.Errorf("slow request answered %d commit %q", code, v.Commit)
		}
		slow <- err
	}()
	e.waitInFlight(e.app + "-pr-6") // the slow request is in flight on commit A

	var failures, served atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // bounded: stops when the deploy ends, and after 60 s at most
		defer wg.Done()
		deadline := time.Now().Add(60 * time.Second)
		for i := 0; i < 100000 && time.Now().Before(deadline); i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, code, err := version(ctx, base, e.host(6), ""); err != nil || code != 200 {
				failures.Add(1)
				t.Logf("request %d: %d %v", i, code, err)
			}
			served.Add(1)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	e.builder.set(images.appB)
	_, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 6})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if failures.Load() != 0 || served.Load() == 0 {
		t.Fatalf("%d of %d requests failed during the replacement", failures.Load(), served.Load())
	}
	if err := <-slow; err != nil {
		t.Fatalf("in-flight request on the old version: %v", err)
	}
	if c, _ := e.commitAt(e.host(6)); c != commitB {
		t.Fatalf("pr-6 serves %q after the new deploy, want %s", c, commitB)
	}
	t.Logf("%d requests, none failed, during the replacement", served.Load())
}

func TestUnhealthyDeployFailsWithTheReasonAndLeavesRoutesAlone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 7}); err != nil {
		t.Fatal(err)
	}
	e.builder.set(images.appB)
	_, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 7, Env: map[string]string{"SHUTDOWN_TIMEOUT": "forever"}})
	if err == nil || !strings.Contains(err.Error(), "exited with code") || !strings.Contains(err.Error(), "SHUTDOWN_TIMEOUT") {
		t.Fatalf("err = %v, want the container's exit and its own reason", err)
	}
	if c, _ := e.commitAt(e.host(7)); c != commitA {
		t.Fatalf("pr-7 serves %q after a failed deploy, want the old %s", c, commitA)
	}
}

func TestDownRemovesOnlyThisApp(t *testing.T) {
	e := newEnv(t)
	other := newEnv(t)
	ctx := context.Background()
	if _, err := other.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 8}); err != nil {
		t.Fatal(err)
	}
	if err := e.provider.EnsureShared(ctx); err != nil {
		t.Fatal(err)
	}
	if err := localDown(ctx, e); err != nil {
		t.Fatal(err)
	}
	if c, _ := other.commitAt(other.host(8)); c != commitA {
		t.Fatalf("down of %s broke %s: pr-8 serves %q", e.app, other.app, c)
	}
	if n := e.containers(); n != "" {
		t.Fatalf("containers of %s left: %s", e.app, n)
	}
}

// Two previews deployed at the same moment both end up routed: the router
// table is changed with conditional writes, so neither undoes the other.
func TestConcurrentPreviewDeploysKeepBothRoutes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	errs := make(chan error, 2)
	for _, pr := range []int{11, 12} {
		go func() {
			_, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: pr})
			errs <- err
		}()
	}
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, pr := range []int{11, 12} {
		if c, code := e.commitAt(e.host(pr)); c != commitA || code != 200 {
			t.Fatalf("pr-%d answers %d %q after concurrent deploys", pr, code, c)
		}
	}
}

// The destroy job of a preview that lived only on another runner finds
// nothing here: it succeeds and creates nothing.
func TestDestroyWhereNothingWasDeployedSucceedsAndCreatesNothing(t *testing.T) {
	cli := testenv.Docker(t)
	buildImages(t, cli)
	app := "ltnothing"
	p := local.New(cli, local.Options{App: app, RouterImage: images.router, RouterPort: testenv.FreePort(t), AdminPort: testenv.FreePort(t), Log: testenv.Log(t)})
	f := &deploy.Flow{App: app, Target: p, Builder: &switchBuilder{img: images.appA}, Tester: &httpTester{}, Routing: routing{app, 1}, Log: testenv.Log(t)}
	if err := f.DestroyPreview(context.Background(), deploy.PreviewRequest{PR: 99}); err != nil {
		t.Fatalf("destroy of a preview that is not here: %v", err)
	}
	e := &env{t: t, cli: cli, app: app}
	if n := e.containers(); n != "" {
		t.Fatalf("destroy created containers: %s", n)
	}
}

// Blue/green on the local target: a release is tested through the stack
// header before it has traffic, then takes all of it; the previous stack is
// kept; a release that fails its tests leaves production where it was.
func TestReleaseMovesProductionOnlyAfterItsTestsPass(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	prodHost := e.app + ".localhost"
	first, err := e.flow.Release(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, code := e.commitAt(prodHost); c != commitA || code != 200 {
		t.Fatalf("production answers %d %q, want %s", code, c, commitA)
	}
	e.builder.set(images.appB)
	e.flow.Now = func() time.Time { return time.Now().Add(time.Hour) } // a later release time, a new stack name
	second, err := e.flow.Release(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if second.Stack == first.Stack || len(second.Previous) != 1 || second.Previous[0] != first.Stack {
		t.Fatalf("second release %+v, first %s", second, first.Stack)
	}
	if c, _ := e.commitAt(prodHost); c != commitB {
		t.Fatalf("production serves %q after the release, want %s", c, commitB)
	}
	if v, code, err := version(ctx, fmt.Sprintf("http://127.0.0.1:%d", e.port), prodHost, first.Stack); err != nil || code != 200 || v.Commit != commitA {
		t.Fatalf("the previous stack should be kept and reachable by header for rollback: %d %q %v", code, v.Commit, err)
	}

	e.flow.Tester = failingTester{}
	e.builder.set(images.appA)
	e.flow.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if _, err := e.flow.Release(ctx, nil); !errors.Is(err, deploy.ErrTestsFailed) {
		t.Fatalf("release with failing tests: %v", err)
	}
	if c, _ := e.commitAt(prodHost); c != commitB {
		t.Fatalf("a failed release moved production to %q", c)
	}
	routes, err := e.provider.Routes(ctx)
	if err != nil || len(routes.Live()) != 1 || routes.Live()[0] != second.Stack {
		t.Fatalf("live stacks %v (%v), want only %s", routes.Live(), err, second.Stack)
	}
	if err := e.provider.Delete(ctx, second.Stack); !errors.Is(err, deploy.ErrLive) {
		t.Fatalf("deleting the live stack must be refused: %v", err)
	}
}

type failingTester struct{}

func (failingTester) Test(context.Context, deploy.TestTarget) (deploy.TestResult, error) {
	return deploy.TestResult{Failed: 1, Summary: "integration: 0 passed, 1 failed"}, nil
}
