package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// schemaTester judges a stack as the sample app's integration tests do: a
// stack the tests are told has a database fails when it has no
// DATABASE_URL (SLIPWAY_EXPECT_DATABASE), and the commit breaks fails on a
// schema at or above breaksAt. It records, for each stack it tested, the
// schema it ran on and production's schema at that moment.
type schemaTester struct {
	p        *dbProvider
	breaks   string
	breaksAt int64
	tested   []string
}

func (t *schemaTester) Test(_ context.Context, tt TestTarget) (TestResult, error) {
	schema, hasDB := t.p.stackSchema(tt.StackHeader)
	prod := int64(-1)
	if x := t.p.server.dbs["shop"]; x != nil {
		prod = x.schema
	}
	t.tested = append(t.tested, fmt.Sprintf("%s on schema %d, production at %d", tt.StackHeader, schema, prod))
	switch {
	case tt.Database && !hasDB:
		return TestResult{Failed: 1, Summary: "GET /version reports no database, but SLIPWAY_EXPECT_DATABASE is set"}, nil
	case tt.Commit == t.breaks && hasDB && schema >= t.breaksAt:
		return TestResult{Failed: 1, Summary: "GET / answered 500: column notes.author does not exist"}, nil
	}
	return TestResult{Passed: 2, OK: true, Summary: "integration: 2 passed"}, nil
}

// dbFlow is a flow on the database fake whose log is kept.
func dbFlow(p *dbProvider) (*Flow, *schemaTester, *strings.Builder) {
	p.server = &fakeServer{dbs: map[string]*fakeDB{}}
	tester := &schemaTester{p: p}
	f, _ := newFlow(p.fakeProvider, "aaaaaaa1111", nil)
	log := &strings.Builder{}
	f.Target, f.Tester, f.Database, f.Log = p, tester, true, log
	return f, tester, log
}

// releaseCommit releases commit, whose image holds ms (nil: fakeMigrations).
func releaseCommit(t *testing.T, f *Flow, p *dbProvider, commit string, ms []Migration) (ReleaseResult, error) {
	t.Helper()
	f.Builder = fakeBuilder{commit}
	if ms != nil {
		p.images["sha256:"+commit] = ms
	}
	return f.Release(context.Background(), nil)
}

var (
	expand4   = Migration{4, "00004_x.sql", KindExpand}
	withNote  = []Migration{fakeMigrations[0], fakeMigrations[1], fakeMigrations[2], expand4}
	firstOnly = fakeMigrations[:1]
	addAuthor = []Migration{fakeMigrations[0], {2, "00002_author.sql", KindExpand}}
)

// Issue 16, item 3: an app released with the database off, then released
// with it on. The live stack has no DATABASE_URL, so no migration can
// break it: it is not retested (one line says so) and the release goes
// through, production migrated expand-only.
func TestTurningTheDatabaseOnOverALiveStackWithoutIt(t *testing.T) {
	p := newDBFake()
	f, tester, log := dbFlow(p)
	f.Database = false
	v1, err := releaseCommit(t, f, p, "aaaaaaa1111", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Database, tester.tested = true, nil
	v2, err := releaseCommit(t, f, p, "bbbbbbb2222", nil)
	if err != nil {
		t.Fatalf("release with the database turned on over %s, which never used one: %v\n%s", v1.Stack, err, log)
	}
	if want := "release: live stack " + v1.Stack + " runs without DATABASE_URL: this release's migrations cannot break it, so it is not checked on the new schema"; !strings.Contains(log.String(), want) {
		t.Fatalf("the log does not say why %s is not checked (%q):\n%s", v1.Stack, want, log)
	}
	for _, s := range tester.tested {
		if !strings.HasPrefix(s, v2.Stack+" ") {
			t.Fatalf("tested %q; want only the new stack %s", tester.tested, v2.Stack)
		}
	}
	if got := p.server.dbs["shop"].schema; got != 2 {
		t.Fatalf("production schema %d, want 2 (expand only)", got)
	}
}

// Issue 16, item 3: every check that can refuse a release runs before
// production's schema changes. The live stack's image runs on a copy of
// production's schema migrated as production will be; when it breaks
// there, the release is refused and production keeps its schema; when it
// passes, production is migrated only afterwards.
func TestLiveStacksAreCheckedOnACopyBeforeProductionIsMigrated(t *testing.T) {
	p := newDBFake()
	f, tester, log := dbFlow(p)
	v1, err := releaseCommit(t, f, p, "aaaaaaa1111", firstOnly)
	if err != nil {
		t.Fatal(err)
	}
	golden := p.server.published
	if got := p.server.dbs["shop"].schema; got != 1 {
		t.Fatalf("production schema %d after the first release, want 1", got)
	}

	// 00002 is marked expand, but v1 fails on it.
	tester.breaks, tester.breaksAt, tester.tested = "aaaaaaa1111", 2, nil
	p.runs = nil
	_, err = releaseCommit(t, f, p, "bbbbbbb2222", addAuthor)
	if !errors.Is(err, ErrLiveBreaks) || !strings.Contains(err.Error(), v1.Stack) || !strings.Contains(err.Error(), "column notes.author does not exist") {
		t.Fatalf("release whose migration breaks the live stack: %v", err)
	}
	if got := p.server.dbs["shop"].schema; got != 1 {
		t.Fatalf("production schema %d after the refused release, want it unchanged at 1", got)
	}
	if slices.Contains(p.runs, "migrate -expand-only shop") {
		t.Fatalf("production was migrated by a refused release: runs %q", p.runs)
	}
	check := v1.Stack + "-check"
	if want := []string{check + " on schema 2, production at 1"}; !slices.Equal(tester.tested, want) {
		t.Fatalf("tested %q, want %q", tester.tested, want)
	}
	if _, left := p.stacks[check]; left || p.server.published != golden || len(p.routes.Live()) != 1 || p.routes.Live()[0] != v1.Stack {
		t.Fatalf("after the refusal: check stack left %v, golden %s (want %s), live %v", left, p.server.published, golden, p.routes.Live())
	}

	// The same schema without the break: checked first, then migrated.
	tester.breaks, tester.tested, p.runs = "", nil, nil
	v3, err := releaseCommit(t, f, p, "ccccccc3333", addAuthor)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{check + " on schema 2, production at 1", v3.Stack + " on schema 2, production at 2"}; !slices.Equal(tester.tested, want) {
		t.Fatalf("tested %q, want %q (the check before production's migration)", tester.tested, want)
	}
	g := p.server.published
	want := []string{"migrate -to 1 " + g, "migrate -expand-only " + g, "migrate " + g, "seed " + g, "migrate -expand-only shop"}
	if !slices.Equal(p.runs, want) {
		t.Fatalf("runs %q, want %q", p.runs, want)
	}
	if _, left := p.stacks[check]; left || !strings.Contains(log.String(), "release: deleted "+check) {
		t.Fatalf("the check stack %s was not deleted:\n%s", check, log)
	}
	if p.envs[check][DatabaseURLEnv] == p.envs[v1.Stack][DatabaseURLEnv] {
		t.Fatal("the check stack ran on production's database")
	}
}

// A release whose migrations leave production's schema as it is needs no
// check stack: the live stacks run on that schema already.
func TestNoCheckWhenProductionsSchemaStays(t *testing.T) {
	p := newDBFake()
	f, tester, log := dbFlow(p)
	if _, err := releaseCommit(t, f, p, "aaaaaaa1111", nil); err != nil {
		t.Fatal(err)
	}
	tester.tested = nil
	v2, err := releaseCommit(t, f, p, "bbbbbbb2222", withNote) // 00004 waits behind the contract 00003
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{v2.Stack + " on schema 2, production at 2"}; !slices.Equal(tester.tested, want) {
		t.Fatalf("tested %q, want only the new stack", tester.tested)
	}
	if !strings.Contains(log.String(), "this release's migrations leave production at schema 2: the live stacks run on it already") {
		t.Fatalf("the skipped check is not said:\n%s", log)
	}
}

// Issue 16, item 5a: held migrations are listed as what they are.
func TestHeldMigrationsAreListedWithTheirKinds(t *testing.T) {
	p := newDBFake()
	f, _, log := dbFlow(p)
	if _, err := releaseCommit(t, f, p, "aaaaaaa1111", withNote); err != nil {
		t.Fatal(err)
	}
	want := "release: production database migrated from schema 0 to 2 (expand only); held until no kept release needs the old schema: 00003_drop_visits.sql (contract), 00004_x.sql (expand, behind the contract)"
	if !strings.Contains(log.String(), want) {
		t.Fatalf("the release log does not say %q:\n%s", want, log)
	}
}

// A target that does not say which image a live stack runs (aws today)
// cannot run it on a copy: the stack is retested in place once production
// is migrated, as before, and the log says why.
func TestALiveStackOfUnknownImageIsRetestedInPlace(t *testing.T) {
	p := newDBFake()
	f, tester, log := dbFlow(p)
	v1, err := releaseCommit(t, f, p, "aaaaaaa1111", firstOnly)
	if err != nil {
		t.Fatal(err)
	}
	s := p.stacks[v1.Stack]
	s.Image = ""
	p.stacks[v1.Stack] = s
	tester.tested = nil
	v2, err := releaseCommit(t, f, p, "bbbbbbb2222", addAuthor)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{v1.Stack + " on schema 2, production at 2", v2.Stack + " on schema 2, production at 2"}; !slices.Equal(tester.tested, want) {
		t.Fatalf("tested %q, want %q", tester.tested, want)
	}
	if !strings.Contains(log.String(), "the target does not say which image live stack "+v1.Stack+" runs") {
		t.Fatalf("the log does not say why %s is retested in place:\n%s", v1.Stack, log)
	}
}

// A check stack left by a release that died is removed by cleanup once it
// is older than a check can take, and is never a rollback target.
func TestCleanupRemovesALeftOverCheckStack(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	stacks := []Stack{
		{Name: "shop-prod-1", Role: RoleProduction, Created: now.Add(-48 * time.Hour)},
		{Name: "shop-prod-1-check", Role: RoleCheck, Created: now.Add(-time.Hour)},
		{Name: "shop-prod-2-check", Role: RoleCheck, Created: now.Add(-time.Minute)},
	}
	r := Routes{Production: []Weight{{Stack: "shop-prod-1", Weight: 100}}}
	var got []string
	for _, it := range Plan("shop", stacks, r, CleanupPolicy{KeepReleases: 2}, nil, now) {
		got = append(got, it.Stack+" "+it.Role+" "+it.Action)
	}
	want := []string{"shop-prod-1 live keep", "shop-prod-1-check check delete", "shop-prod-2-check check keep"}
	if !slices.Equal(got, want) {
		t.Fatalf("plan %q, want %q", got, want)
	}
	if s, ok := RollbackTarget(stacks, r); ok {
		t.Fatalf("rollback target %s: a check stack never is one", s.Name)
	}
}
