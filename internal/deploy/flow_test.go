package deploy

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func newFlow(p *fakeProvider, commit string, tester *fakeTester) (*Flow, *recorder) {
	rec := &recorder{}
	return &Flow{
		App: "shop", Target: p, Builder: fakeBuilder{commit}, Tester: tester, Reporter: rec,
		Routing: fakeRouting{}, Now: func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
	}, rec
}

func TestPreviewDeployRoutesTheHostAndTestsTheURL(t *testing.T) {
	p, tester := newFake(), &fakeTester{}
	f, rec := newFlow(p, "abcdef1234567", tester)
	res, err := f.DeployPreview(context.Background(), PreviewRequest{PR: 42})
	if err != nil {
		t.Fatal(err)
	}
	if res.URL != "http://pr-42.shop.localhost:8080" || p.routes.Hosts["pr-42.shop.localhost"] != "shop-pr-42" {
		t.Fatalf("url %s routes %+v", res.URL, p.routes)
	}
	if got := tester.targets[0]; got.Host != "pr-42.shop.localhost" || got.Commit != "abcdef1234567" {
		t.Fatalf("tests ran against %+v", got)
	}
	if len(rec.events) != 2 || rec.events[0].Status != "deploying" || rec.events[1].Status != "deployed" || rec.events[1].Tests == nil {
		t.Fatalf("reported %+v", rec.events)
	}
}

func TestPreviewWithFailingTestsStaysUpAndSaysSo(t *testing.T) {
	p := newFake()
	f, rec := newFlow(p, "bad0000", &fakeTester{fail: map[string]bool{"bad0000": true}})
	_, err := f.DeployPreview(context.Background(), PreviewRequest{PR: 7})
	if !errors.Is(err, ErrTestsFailed) || !strings.Contains(err.Error(), "1 failed") {
		t.Fatalf("err = %v", err)
	}
	if p.routes.Hosts["pr-7.shop.localhost"] != "shop-pr-7" {
		t.Fatal("a preview whose tests fail should stay up to be looked at")
	}
	if last := rec.events[len(rec.events)-1]; last.Status != "failed" || last.Err == nil {
		t.Fatalf("last report %+v", last)
	}
}

func TestDestroyingAGonePreviewChangesNothing(t *testing.T) {
	p := newFake()
	f, _ := newFlow(p, "abcdef1", &fakeTester{})
	ctx := context.Background()
	if _, err := f.DeployPreview(ctx, PreviewRequest{PR: 3}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := f.DestroyPreview(ctx, PreviewRequest{PR: 3}); err != nil {
			t.Fatalf("destroy #%d: %v", i+1, err)
		}
	}
	if len(p.stacks) != 0 || len(p.routes.Hosts) != 0 {
		t.Fatalf("left %+v %+v", p.stacks, p.routes)
	}
}

func TestReleaseMovesTrafficOnlyAfterTestsPass(t *testing.T) {
	ctx := context.Background()
	p, tester := newFake(), &fakeTester{fail: map[string]bool{"bbbbbbb": true}}
	f, _ := newFlow(p, "aaaaaaa", tester)
	var log bytes.Buffer
	f.Log = &log
	first, err := f.Release(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "(kept for rollback: none)") {
		t.Fatalf("the first release should say nothing is kept for rollback, in words:\n%s", log.String())
	}
	if live := p.routes.Live(); len(live) != 1 || live[0] != first.Stack {
		t.Fatalf("live %v, want %s", live, first.Stack)
	}
	if tt := tester.targets[0]; tt.StackHeader != first.Stack {
		t.Fatalf("release tests must reach the new stack by header before traffic moves: %+v", tt)
	}

	f.Builder, f.Now = fakeBuilder{"bbbbbbb"}, func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	_, err = f.Release(ctx, nil)
	if !errors.Is(err, ErrTestsFailed) || !strings.Contains(err.Error(), "production traffic unchanged") {
		t.Fatalf("err = %v", err)
	}
	if live := p.routes.Live(); len(live) != 1 || live[0] != first.Stack {
		t.Fatalf("a failed release moved traffic: live %v", live)
	}

	p.failStack = "shop-prod-20261127120000-ccccccc"
	f.Builder, f.Now = fakeBuilder{"ccccccc"}, func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }
	if _, err = f.Release(ctx, nil); err == nil || !strings.Contains(err.Error(), "exited with code 1") {
		t.Fatalf("the first failed resource's reason should reach the user: %v", err)
	}
	if live := p.routes.Live(); live[0] != first.Stack {
		t.Fatalf("an unhealthy release moved traffic: %v", live)
	}
}

func TestReleasingTheLiveImageAgainChangesNothing(t *testing.T) {
	ctx := context.Background()
	p := newFake()
	f, _ := newFlow(p, "aaaaaaa", &fakeTester{})
	first, err := f.Release(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.Release(ctx, nil)
	if err != nil || !again.Unchanged || again.Stack != first.Stack || len(p.stacks) != 1 {
		t.Fatalf("second release %+v err %v stacks %d", again, err, len(p.stacks))
	}
}

func TestStatusTable(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	stacks := []Stack{
		{Name: "shop-pr-42", Role: RolePreview, PR: 42, Commit: "abcdef1234", Digest: "sha256:0123456789abcdef0123", Created: now.Add(-5 * time.Minute), Healthy: true, SchemaHead: 4, URL: "http://127.0.0.1:18100"},
		{Name: "shop-br-feat-x-1a2b3c", Role: RolePreview, Branch: "feat/x", Commit: "9999999", Dirty: true, Created: now.Add(-50 * time.Minute), Healthy: true},
		{Name: "shop-prod-20261124120000-1111111", Role: RoleProduction, Commit: "1111111", Digest: "sha256:1111", Created: now.Add(-24 * time.Hour), Healthy: true, LastLive: now, SchemaHead: 3, URL: "http://127.0.0.1:18101"},
		{Name: "shop-prod-20261125110000-2222222", Role: RoleProduction, Branch: "main", Commit: "2222222", Digest: "sha256:2222", Created: now.Add(-time.Hour), Healthy: false, LastLive: now},
		{Name: "shop-prod-20261120110000-0000000", Role: RoleProduction, Commit: "0000000", Created: now.Add(-5 * 24 * time.Hour), Scaled: true, LastLive: now.Add(-24 * time.Hour), SchemaHead: 2},
		{Name: "shop-prod-20261125113000-3333333", Role: RoleProduction, Commit: "3333333", Created: now.Add(-30 * time.Minute), State: StateFailed},
	}
	routes := Routes{Hosts: map[string]string{"pr-42.shop.localhost": "shop-pr-42"}, Production: []Weight{{"shop-prod-20261124120000-1111111", 90}, {"shop-prod-20261125110000-2222222", 10}}}
	rows := statusRows(stacks, routes, fakeRouting{}, now)
	var b bytes.Buffer
	if err := PrintStatus(&b, rows); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "status.golden", b.Bytes())
	b.Reset()
	if err := Summary(&b, "Release shop-prod-20261125110000-2222222", rows); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "summary.golden.md", b.Bytes())
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (go test -update): %v", err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s changed (go test ./internal/deploy -update to accept):\n%s", name, got)
	}
}
