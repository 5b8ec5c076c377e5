package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// compatProvider is the database fake that also records each stack's image
// (what the schema-compat check runs) and how each deletion was bounded.
type compatProvider struct {
	*dbProvider
	deletes map[string]deleteCtx
}

type deleteCtx struct {
	err         error // the context's error when Delete was called
	hasDeadline bool
}

func newCompatFake() *compatProvider {
	return &compatProvider{dbProvider: newDBFake(), deletes: map[string]deleteCtx{}}
}

func (p *compatProvider) Deploy(ctx context.Context, s Spec) (Stack, error) {
	st, err := p.dbProvider.Deploy(ctx, s)
	if err != nil {
		return st, err
	}
	st.Image = s.Image
	p.stacks[s.Stack] = st
	return st, nil
}

func (p *compatProvider) Delete(ctx context.Context, stack string) error {
	_, ok := ctx.Deadline()
	p.deletes[stack] = deleteCtx{err: ctx.Err(), hasDeadline: ok}
	return p.dbProvider.Delete(ctx, stack)
}

// compatTester fails the database test for commit failCommit (the live
// release breaking on the PR's schema), and cancels the run (Ctrl-C) when
// it tests a stack named cancelAt.
type compatTester struct {
	failCommit string
	cancelAt   string
	cancel     context.CancelFunc
	targets    []TestTarget
	// TestCommit: the commits whose tests ran, per stack, and an error
	// for a commit that cannot be checked out.
	testsOf   map[string]string
	noCommits error
}

// TestCommit runs "the tests of commit" (the same fake tests, recorded).
func (t *compatTester) TestCommit(ctx context.Context, commit string, tt TestTarget) (TestResult, error) {
	if t.noCommits != nil {
		return TestResult{}, t.noCommits
	}
	if t.testsOf == nil {
		t.testsOf = map[string]string{}
	}
	t.testsOf[tt.Stack] = commit
	return t.Test(ctx, tt)
}

// checkoutTester can run only the checkout's tests.
type checkoutTester struct{ t *compatTester }

func (c checkoutTester) Test(ctx context.Context, tt TestTarget) (TestResult, error) {
	return c.t.Test(ctx, tt)
}

func (t *compatTester) Test(ctx context.Context, tt TestTarget) (TestResult, error) {
	t.targets = append(t.targets, tt)
	if tt.Stack == t.cancelAt && t.cancel != nil {
		t.cancel()
		return TestResult{}, ctx.Err()
	}
	if tt.Commit == t.failCommit {
		return TestResult{Passed: 2, Failed: 1, Summary: "integration: 2 passed, 1 failed",
			Failures: []string{`TestDatabaseKeepsThisEnvironmentsData: POST /notes = 500: relation "notes" does not exist`}}, nil
	}
	return TestResult{Passed: 3, OK: true, Summary: "integration: 3 passed, 0 failed"}, nil
}

// compatFlow has a live release of commit "aaaaaaa1234567" (unless
// noRelease) and builds previews of "bbbbbbb1234567".
func compatFlow(t *testing.T, noRelease bool) (*Flow, *compatProvider, *compatTester, *recorder, string) {
	t.Helper()
	p, tester := newCompatFake(), &compatTester{}
	f, rec := newFlow(p.fakeProvider, "aaaaaaa1234567", nil)
	f.Target, f.Tester, f.Database = p, tester, true
	release := ""
	if !noRelease {
		rel, err := f.Release(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		release = rel.Stack
	}
	f.Builder = fakeBuilder{"bbbbbbb1234567"}
	rec.events = nil
	return f, p, tester, rec, release
}

func lastCompat(t *testing.T, rec *recorder) *CompatCheck {
	t.Helper()
	if len(rec.events) < 2 || rec.events[0].Compat == nil || rec.events[0].Compat.Status != CompatPending {
		t.Fatalf("events %+v: the deploying event must carry a pending schema-compat check", rec.events)
	}
	return rec.events[len(rec.events)-1].Compat
}

func TestSchemaCompatRunsTheLiveReleaseOnThePreviewDatabaseAndRemovesIt(t *testing.T) {
	f, p, tester, rec, release := compatFlow(t, false)
	res, err := f.DeployPreview(context.Background(), PreviewRequest{PR: 9})
	if err != nil {
		t.Fatal(err)
	}
	c := lastCompat(t, rec)
	if c != res.Compat || c.Status != CompatPassed || c.Release != release || c.Schema != 3 || c.Tests == nil || c.Tests.Passed != 3 {
		t.Fatalf("schema-compat %+v, want passed by %s on schema 3", c, release)
	}
	env := p.envs["shop-pr-9-compat"]
	if env[DatabaseURLEnv] != "postgres://shop_pr_9:s3cret-shop_pr_9@db:5432/shop_pr_9" {
		t.Fatalf("the compat stack's env %v: want the preview's database", env)
	}
	var compat TestTarget
	for _, tt := range tester.targets {
		if tt.Stack == "shop-pr-9-compat" {
			compat = tt
		}
	}
	if compat.StackHeader != "shop-pr-9-compat" || compat.Commit != "aaaaaaa1234567" || !compat.Database || compat.Host != "pr-9.shop.localhost" {
		t.Fatalf("compat tests ran against %+v; want the release's commit through X-Slipway-Stack, database expected", compat)
	}
	if got := tester.testsOf; len(got) != 1 || got["shop-pr-9-compat"] != "aaaaaaa1234567" {
		t.Fatalf("tests run at a commit: %v; want only the compat stack judged by the release's own tests (commit aaaaaaa1234567), the preview by the checkout's", got)
	}
	if _, left := p.stacks["shop-pr-9-compat"]; left {
		t.Fatal("the schema-compat stack was left behind")
	}
	if _, routed := p.routes.Hosts["shop-pr-9-compat"]; routed || p.routes.Hosts["pr-9.shop.localhost"] != "shop-pr-9" {
		t.Fatalf("hosts %v: the compat stack gets no host rule; the preview keeps its own", p.routes.Hosts)
	}
	found := false
	for _, call := range p.calls {
		found = found || call == "deploy shop-pr-9-compat"
	}
	if !found {
		t.Fatalf("calls %v: the compat stack was never deployed", p.calls)
	}
}

func TestSchemaCompatOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		noRelease  bool
		change     func(*Flow, *compatProvider, *compatTester)
		wantStatus CompatStatus
		wantErr    bool
		check      func(*testing.T, *CompatCheck, string)
	}{
		{name: "no release: passes, saying there is nothing to check against", noRelease: true, wantStatus: CompatPassed,
			check: func(t *testing.T, c *CompatCheck, _ string) {
				if c.Release != "" || c.Tests != nil {
					t.Errorf("check %+v ran something without a release", c)
				}
			}},
		{name: "the release fails on the PR's schema: failed, naming the tests; the preview still deploys, and the command fails saying so", wantStatus: CompatFailed, wantErr: true,
			change: func(_ *Flow, _ *compatProvider, x *compatTester) { x.failCommit = "aaaaaaa1234567" },
			check: func(t *testing.T, c *CompatCheck, release string) {
				if c.Release != release || strings.Join(c.Failing(), ",") != "TestDatabaseKeepsThisEnvironmentsData" {
					t.Errorf("check %+v (failing %q), want %s naming the failed test", c, c.Failing(), release)
				}
			}},
		{name: "the compat stack does not come up: no verdict, stack removed", wantStatus: CompatError,
			change: func(_ *Flow, p *compatProvider, _ *compatTester) { p.failStack = "shop-pr-9-compat" },
			check: func(t *testing.T, c *CompatCheck, release string) {
				if !strings.Contains(c.Reason, "start release "+release+" on the preview's database") {
					t.Errorf("reason %q", c.Reason)
				}
			}},
		{name: "the migration fails: the pending check ends as not checked", wantStatus: CompatError, wantErr: true,
			change: func(_ *Flow, p *compatProvider, _ *compatTester) { p.failMigrate = "shop_pr_9" },
			check: func(t *testing.T, c *CompatCheck, _ string) {
				if c.Reason != compatNotMigratedWhy {
					t.Errorf("reason %q", c.Reason)
				}
			}},
		{name: "the release's commit cannot be checked out: no verdict, saying what to do", wantStatus: CompatError,
			change: func(_ *Flow, _ *compatProvider, x *compatTester) {
				x.noCommits = errors.New("get the tests of commit aaaaaaa: this checkout does not have it and fetching it from origin failed: fetch it (git fetch origin aaaaaaa1234567)")
			},
			check: func(t *testing.T, c *CompatCheck, release string) {
				if c.Tests != nil || !strings.Contains(c.Reason, "test release "+release+" on the preview's database") || !strings.Contains(c.Reason, "fetch it (git fetch origin aaaaaaa1234567)") {
					t.Errorf("check %+v: want no tests and a reason saying how to get the commit", c)
				}
			}},
		{name: "a tester that runs only the checkout's tests: no verdict, never the PR's tests as a pass", wantStatus: CompatError,
			change: func(f *Flow, _ *compatProvider, x *compatTester) { f.Tester = checkoutTester{x} },
			check: func(t *testing.T, c *CompatCheck, release string) {
				if c.Tests != nil || !strings.Contains(c.Reason, "cannot run the tests of release "+release+"'s commit aaaaaaa") {
					t.Errorf("check %+v: want no tests and the reason", c)
				}
			}},
		{name: "the live stack does not record its commit: no verdict, said", wantStatus: CompatError,
			change: func(_ *Flow, p *compatProvider, _ *compatTester) {
				for n, s := range p.stacks {
					s.Commit = ""
					p.stacks[n] = s
				}
			},
			check: func(t *testing.T, c *CompatCheck, release string) {
				if c.Tests != nil || !strings.Contains(c.Reason, release+" does not say which commit it was built from") {
					t.Errorf("check %+v: want no tests and the reason", c)
				}
			}},
		{name: "the live stack does not record its image: no verdict, said", wantStatus: CompatError,
			change: func(_ *Flow, p *compatProvider, _ *compatTester) {
				for n, s := range p.stacks {
					s.Image = ""
					p.stacks[n] = s
				}
			},
			check: func(t *testing.T, c *CompatCheck, release string) {
				if !strings.Contains(c.Reason, release+" does not say which image it runs") {
					t.Errorf("reason %q", c.Reason)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, p, tester, rec, release := compatFlow(t, tt.noRelease)
			if tt.change != nil {
				tt.change(f, p, tester)
			}
			res, err := f.DeployPreview(context.Background(), PreviewRequest{PR: 9})
			if (err != nil) != tt.wantErr {
				t.Fatalf("DeployPreview: %v (want an error: %v)", err, tt.wantErr)
			}
			failed := tt.wantStatus == CompatFailed
			if failed && (!errors.Is(err, ErrSchemaCompat) || !strings.HasPrefix(err.Error(), "preview shop-pr-9 is up for review, but slipway/schema-compat did not pass") || p.stacks["shop-pr-9"].Name == "") {
				t.Fatalf("DeployPreview: %v; want the preview up and the error saying the check failed", err)
			}
			c := lastCompat(t, rec)
			if c == nil || c.Status != tt.wantStatus || ((!tt.wantErr || failed) && c != res.Compat) {
				t.Fatalf("schema-compat %+v, want %s", c, tt.wantStatus)
			}
			tt.check(t, c, release)
			if _, left := p.stacks["shop-pr-9-compat"]; left {
				t.Fatal("the schema-compat stack was left behind")
			}
		})
	}
}

func TestSchemaCompatStackIsRemovedAfterCtrlC(t *testing.T) {
	f, p, tester, _, _ := compatFlow(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tester.cancelAt, tester.cancel = "shop-pr-9-compat", cancel
	res, err := f.DeployPreview(ctx, PreviewRequest{PR: 9})
	if err != nil {
		t.Fatalf("DeployPreview: %v; the preview had finished before Ctrl-C", err)
	}
	if res.Compat == nil || res.Compat.Status != CompatError || !strings.Contains(res.Compat.Reason, "context canceled") {
		t.Fatalf("schema-compat %+v, want no verdict after Ctrl-C", res.Compat)
	}
	d, ok := p.deletes["shop-pr-9-compat"]
	if !ok || d.err != nil || !d.hasDeadline {
		t.Fatalf("delete of the compat stack after Ctrl-C: called %v, ctx error %v, bounded %v; want a live, bounded context", ok, d.err, d.hasDeadline)
	}
	if _, left := p.stacks["shop-pr-9-compat"]; left {
		t.Fatal("the schema-compat stack was left behind after Ctrl-C")
	}
}

func TestWithoutADatabaseThereIsNoSchemaCompatCheck(t *testing.T) {
	p := newCompatFake()
	f, rec := newFlow(p.fakeProvider, "aaaaaaa1234567", &fakeTester{})
	f.Target = p
	if _, err := f.DeployPreview(context.Background(), PreviewRequest{PR: 9}); err != nil {
		t.Fatal(err)
	}
	for _, e := range rec.events {
		if e.Compat != nil {
			t.Fatalf("event %s carries a schema-compat check without a database: %+v", e.Status, e.Compat)
		}
	}
}

func TestCleanupAndDestroyRemoveALeftoverCompatStack(t *testing.T) {
	f, p, _, _, _ := compatFlow(t, false)
	ctx := context.Background()
	if _, err := f.DeployPreview(ctx, PreviewRequest{PR: 9}); err != nil {
		t.Fatal(err)
	}
	now := f.now()
	// A run that died left compat stacks: an old one of #9 and a young one
	// (a check running now) of #10, and a branch preview ending in -compat.
	p.stacks["shop-pr-9-compat"] = Stack{Name: "shop-pr-9-compat", Role: RolePreview, PR: 9, Created: now.Add(-CompatLeftoverAge - time.Minute)}
	p.stacks["shop-pr-10-compat"] = Stack{Name: "shop-pr-10-compat", Role: RolePreview, PR: 10, Created: now.Add(-time.Minute)}
	p.stacks["shop-br-fix-compat"] = Stack{Name: "shop-br-fix-compat", Role: RolePreview, Created: now.Add(-time.Hour)}
	plan, err := f.Cleanup(ctx, CleanupPolicy{KeepReleases: 2, Parallel: 1}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range plan {
		got[it.Stack] = it.Action + ": " + it.Reason
	}
	want := map[string]string{
		"shop-pr-9-compat":   "delete: schema-compat check of #9 left behind (older than 17m)",
		"shop-pr-10-compat":  "keep: schema-compat check of #10 running",
		"shop-br-fix-compat": "keep: preview in use",
		"shop-pr-9":          "keep: preview in use",
	}
	for stack, w := range want {
		if got[stack] != w {
			t.Errorf("cleanup of %s: %q, want %q", stack, got[stack], w)
		}
	}
	if _, left := p.stacks["shop-pr-9-compat"]; left {
		t.Error("cleanup left the leftover compat stack")
	}
	if err := f.DestroyPreview(ctx, PreviewRequest{PR: 10}); err != nil {
		t.Fatal(err)
	}
	if _, left := p.stacks["shop-pr-10-compat"]; left {
		t.Error("destroying #10 left its compat stack")
	}
}
