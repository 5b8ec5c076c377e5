package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// fakeURL is a database URL whose password must never be shown.
type fakeURL struct{ db, password string }

func (u fakeURL) String() string   { return "postgres://" + u.db + ":xxxxx@db:5432/" + u.db }
func (u fakeURL) Reveal() string   { return "postgres://" + u.db + ":" + u.password + "@db:5432/" + u.db }
func (u fakeURL) Database() string { return u.db }

// dbProvider is the fake target with a database server in memory.
type dbProvider struct {
	*fakeProvider
	previews    map[int]bool
	golden      string // the release golden was built by
	schema      int64
	failMigrate string // Migrate of this database fails
	envs        map[string]map[string]string
}

func newDBFake() *dbProvider {
	return &dbProvider{fakeProvider: newFake(), previews: map[int]bool{}, envs: map[string]map[string]string{}}
}

func (d *dbProvider) Deploy(ctx context.Context, s Spec) (Stack, error) {
	d.envs[s.Stack] = s.Env
	return d.fakeProvider.Deploy(ctx, s)
}

func (d *dbProvider) EnsurePreviewDatabase(_ context.Context, pr int) (PreviewDatabase, error) {
	name := fmt.Sprintf("shop_pr_%d", pr)
	cloned := !d.previews[pr]
	d.previews[pr] = true
	return PreviewDatabase{Name: name, Cloned: cloned, From: d.golden, URL: fakeURL{name, "s3cret-" + name}}, nil
}

func (d *dbProvider) DropPreviewDatabase(_ context.Context, pr int) error {
	delete(d.previews, pr)
	return nil
}

func (d *dbProvider) PreviewDatabases(context.Context) ([]int, error) {
	var out []int
	for pr := range d.previews {
		out = append(out, pr)
	}
	sort.Ints(out)
	return out, nil
}

func (d *dbProvider) RefreshGolden(_ context.Context, _, release string) (MigrateResult, error) {
	d.golden = release
	return MigrateResult{To: 3}, nil
}

func (d *dbProvider) ProductionDatabase(context.Context) (SecretURL, error) {
	return fakeURL{"shop", "s3cret-shop"}, nil
}

func (d *dbProvider) Migrate(_ context.Context, _ string, db SecretURL, expandOnly bool) (MigrateResult, error) {
	if db.Database() == d.failMigrate {
		return MigrateResult{}, &MigrationError{Database: db.Database(), ExitCode: 1, Output: `ERROR: relation "counters" already exists`}
	}
	if expandOnly {
		return MigrateResult{From: d.schema, To: 2, Held: []string{"00003_drop_visits.sql"}}, nil
	}
	return MigrateResult{From: 3, To: 3}, nil
}

func (d *dbProvider) Schema(context.Context, SecretURL) (int64, error) { return d.schema, nil }

// The flow with a database: the preview's stack gets DATABASE_URL, its
// tests expect a database, the report names the golden copy's release and
// the schema but holds no URL or password; a failed migration deploys
// nothing; destroy drops; cleanup lists orphaned databases.
func TestPreviewWithADatabase(t *testing.T) {
	p := newDBFake()
	tester := &fakeTester{}
	f, rec := newFlow(p.fakeProvider, "abcdef1234567", tester)
	f.Target, f.Database = p, true
	rel, err := f.Release(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.envs[rel.Stack][DatabaseURLEnv] != "postgres://shop:s3cret-shop@db:5432/shop" || p.golden != rel.Stack {
		t.Fatalf("release env %v, golden built by %q", p.envs[rel.Stack], p.golden)
	}
	res, err := f.DeployPreview(context.Background(), PreviewRequest{PR: 9})
	if err != nil {
		t.Fatal(err)
	}
	if p.envs["shop-pr-9"][DatabaseURLEnv] != "postgres://shop_pr_9:s3cret-shop_pr_9@db:5432/shop_pr_9" {
		t.Fatalf("preview env %v, want its DATABASE_URL", p.envs["shop-pr-9"])
	}
	if last := tester.targets[len(tester.targets)-1]; !last.Database {
		t.Fatalf("the preview's tests were not told to expect a database: %+v", last)
	}
	ev := rec.events[len(rec.events)-1]
	if ev.Database == nil || ev.Database.Released != rel.Stack || ev.Database.Head != 3 || !ev.Database.Cloned || res.Database != ev.Database {
		t.Fatalf("reported database %+v, want cloned from %s at schema 3", ev.Database, rel.Stack)
	}
	if shown := fmt.Sprintf("%+v %v", rec.events, res); strings.Contains(shown, "s3cret") {
		t.Fatalf("a report holds the password: %s", shown)
	}

	p.failMigrate = "shop_pr_10"
	_, err = f.DeployPreview(context.Background(), PreviewRequest{PR: 10})
	var merr *MigrationError
	if !errors.As(err, &merr) || !strings.Contains(err.Error(), `relation "counters" already exists`) || p.stacks["shop-pr-10"].Name != "" {
		t.Fatalf("deploy over a failed migration: %v (stacks %v)", err, p.stacks)
	}

	if err := f.DestroyPreview(context.Background(), PreviewRequest{PR: 9}); err != nil || p.previews[9] {
		t.Fatalf("destroy: %v; database of #9 left: %v", err, p.previews[9])
	}
	plan, err := f.Cleanup(context.Background(), CleanupPolicy{KeepReleases: 2, Parallel: 1}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := PrintPlan(&b, plan); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range strings.Split(b.String(), "\n") {
		found = found || strings.Join(strings.Fields(l), " ") == "database of #10 database drop preview #10 is gone"
	}
	if !found || !p.previews[10] {
		t.Fatalf("dry-run plan (must list the orphaned database and drop nothing):\n%s", b.String())
	}
}
