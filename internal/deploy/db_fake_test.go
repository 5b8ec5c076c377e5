package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/database"
)

// fakeURL is a database URL whose password must never be shown.
type fakeURL struct{ db, password string }

func (u fakeURL) String() string   { return "postgres://" + u.db + ":xxxxx@db:5432/" + u.db }
func (u fakeURL) Reveal() string   { return "postgres://" + u.db + ":" + u.password + "@db:5432/" + u.db }
func (u fakeURL) Database() string { return u.db }

// The fake images' migrations: unless an image has its own list
// (dbProvider.images), it migrates to schema 3, whose migration is a
// contract one (an expand-only run stops at 2).
const (
	fakeHead     = 3
	fakeContract = "00003_drop_visits.sql"
)

var fakeMigrations = []Migration{
	{1, "00001_visits_and_notes.sql", KindExpand},
	{2, "00002_visit_counter.sql", KindExpand},
	{3, fakeContract, KindContract},
}

// dbProvider is the fake target with a database server in memory: its
// primitives (DatabaseServer) and an admin that keeps databases as a map.
// A stack records what the local target's labels say: its image, the
// image's schema and whether it has DATABASE_URL.
type dbProvider struct {
	*fakeProvider
	server      *fakeServer
	failMigrate string // a migrate run on this database fails
	failSeed    bool   // a seed run fails
	imageHeads  map[string]int64
	images      map[string][]Migration // an image's migrations; fakeMigrations when absent
	runs        []string               // "migrate shop_pr_9", "seed shop_golden_1", "migrate -to 2 shop_golden_1"
	generic     []string               // runs of slipway.yaml's commands: name, command, environment, database
	envs        map[string]map[string]string
}

// fakeServer is the Postgres server: nil until started.
type fakeServer struct {
	dbs       map[string]*fakeDB
	builds    int
	published string // the golden database previews clone from
}

type fakeDB struct {
	schema int64
	from   string // the release it was built by or cloned from
	seeded bool
}

func newDBFake() *dbProvider {
	return &dbProvider{fakeProvider: newFake(), imageHeads: map[string]int64{}, images: map[string][]Migration{}, envs: map[string]map[string]string{}}
}

func (d *dbProvider) migrations(image string) []Migration {
	if ms, ok := d.images[image]; ok {
		return ms
	}
	return fakeMigrations
}

func (d *dbProvider) Deploy(ctx context.Context, s Spec) (Stack, error) {
	d.envs[s.Stack] = s.Env
	st, err := d.fakeProvider.Deploy(ctx, s)
	if err != nil {
		return st, err
	}
	st.Image = s.Image
	_, hasDB := s.Env[DatabaseURLEnv]
	st.NoDatabase = !hasDB
	for _, m := range d.migrations(s.Image) {
		st.SchemaHead = max(st.SchemaHead, m.Version)
		if m.Kind == KindContract {
			st.Contracts = append(st.Contracts, Contract{m.Version, m.Name})
		}
	}
	d.stacks[s.Stack] = st
	return st, nil
}

// stackSchema is the schema of the database stack runs on; ok is false
// when it has none.
func (d *dbProvider) stackSchema(stack string) (int64, bool) {
	u, ok := d.envs[stack][DatabaseURLEnv]
	if !ok || d.server == nil {
		return 0, false
	}
	x := d.server.dbs[u[strings.LastIndex(u, "/")+1:]]
	if x == nil {
		return 0, false
	}
	return x.schema, true
}

func (d *dbProvider) OpenDatabaseAdmin(_ context.Context, start bool) (DatabaseAdmin, error) {
	d.calls = append(d.calls, fmt.Sprintf("admin start=%v", start))
	if d.server == nil && !start {
		return nil, nil
	}
	if d.server == nil {
		d.server = &fakeServer{dbs: map[string]*fakeDB{}}
	}
	return d.server, nil
}

func (d *dbProvider) DatabasePassword(_ context.Context, id DatabaseID) (string, error) {
	return "s3cret-" + id.RoleName("shop"), nil
}

func (d *dbProvider) KeepDatabaseURL(_ context.Context, _ DatabaseID, u database.URL, _ string) (SecretURL, error) {
	parsed, err := url.Parse(u.Reveal())
	if err != nil {
		return nil, err
	}
	pw, _ := parsed.User.Password()
	return fakeURL{u.Database(), pw}, nil
}

func (d *dbProvider) ForgetDatabaseURL(context.Context, DatabaseID) error { return nil }

// RunOnce runs what the sample app's commands do: migrate as goose would
// (every pending migration up to -to, or up to the first pending contract
// with -expand-only), seed, and schema. A command of slipway.yaml is read
// by the migrate contract (SLIPWAY_MIGRATE, SLIPWAY_MIGRATE_TO) and
// recorded with its entrypoint and environment.
func (d *dbProvider) RunOnce(_ context.Context, image string, run OneOff, db SecretURL) (string, error) {
	args := run.Args
	if run.Entrypoint != nil {
		d.generic = append(d.generic, fmt.Sprintf("%s %q %v %s", run.Name, append(run.Entrypoint[:1:1], run.Args...), run.Env, db.Database()))
		args = []string{run.Name}
		if run.Env[MigrateEnv] == MigrateExpand {
			args = append(args, "-expand-only")
		}
		if to := run.Env[MigrateToEnv]; to != "" {
			args = append(args, "-to", to)
		}
	}
	d.runs = append(d.runs, strings.Join(append(args[:len(args):len(args)], db.Database()), " "))
	x := d.server.dbs[db.Database()]
	all := d.migrations(image)
	switch {
	case args[0] == "seed" && d.failSeed:
		return "", &MigrationError{Database: db.Database(), ExitCode: 1, Output: "seed: notes: permission denied"}
	case args[0] == "seed":
		x.seeded = true
		return "", nil
	case args[0] == "schema":
		b, err := json.Marshal(map[string]any{"migrations": all})
		return string(b) + "\n", err
	case db.Database() == d.failMigrate:
		return "", &MigrationError{Database: db.Database(), ExitCode: 1, Output: `ERROR: relation "counters" already exists`}
	}
	res := MigrateResult{From: x.schema, To: x.schema, Applied: []Migration{}, Held: []Migration{}}
	to := all[len(all)-1].Version
	if len(args) == 3 && args[1] == "-to" {
		n, err := strconv.ParseInt(args[2], 10, 64)
		if err != nil {
			return "", err
		}
		to = min(to, n)
	}
	for _, m := range all {
		switch {
		case m.Version <= x.schema:
		case len(res.Held) > 0 || (slices.Contains(args, "-expand-only") && m.Kind == KindContract):
			res.Held = append(res.Held, m)
		case m.Version <= to:
			res.Applied, res.To = append(res.Applied, m), m.Version
		}
	}
	x.schema = res.To
	b, err := json.Marshal(res)
	return "goose: migrating\n" + string(b) + "\n", err
}

func (d *dbProvider) ImageSchemaHead(_ context.Context, image string) (int64, error) {
	return d.imageHeads[image], nil
}

func (d *dbProvider) PreviewDatabase(ctx context.Context, _ int, create func(context.Context) (PreviewDatabase, error)) (PreviewDatabase, error) {
	return create(ctx)
}

var _ DatabaseAdmin = (*fakeServer)(nil)

func (s *fakeServer) url(name, password string) database.URL {
	return database.NewURL("db:5432", name, password, name, "disable")
}

func (s *fakeServer) EnsureProduction(_ context.Context, app, password string) (database.URL, error) {
	if s.dbs[app] == nil {
		s.dbs[app] = &fakeDB{}
	}
	return s.url(app, password), nil
}

func (s *fakeServer) BuildGolden(_ context.Context, app, password string) (database.URL, error) {
	s.builds++
	name := fmt.Sprintf("%s_golden_%d", app, s.builds)
	s.dbs[name] = &fakeDB{}
	return database.NewURL("db:5432", database.GoldenName(app), password, name, "disable"), nil
}

func (s *fakeServer) PublishGolden(_ context.Context, app, db, release string) ([]string, error) {
	s.dbs[db].from = release
	var dropped []string
	if old := s.published; old != "" {
		delete(s.dbs, old)
		dropped = append(dropped, old)
	}
	s.published = db
	return dropped, nil
}

func (s *fakeServer) EnsurePreview(_ context.Context, app string, pr int, password string) (database.Preview, error) {
	name := database.PreviewName(app, pr)
	p := database.Preview{PR: pr, Database: name, URL: s.url(name, password)}
	if x := s.dbs[name]; x != nil {
		p.From = x.from
		return p, nil
	}
	g := s.dbs[s.published]
	if g == nil { // no release yet: an empty clone (the compat tests' "no release")
		g = &fakeDB{}
	}
	s.dbs[name] = &fakeDB{schema: g.schema, from: g.from, seeded: g.seeded}
	p.Cloned, p.From = true, g.from
	return p, nil
}

func (s *fakeServer) DropPreview(_ context.Context, app string, pr int) error {
	delete(s.dbs, database.PreviewName(app, pr))
	return nil
}

func (s *fakeServer) ListPreviews(_ context.Context, app string) ([]int, error) {
	var out []int
	for name := range s.dbs {
		var pr int
		if _, err := fmt.Sscanf(strings.TrimPrefix(name, app+"_pr_"), "%d", &pr); err == nil && strings.HasPrefix(name, app+"_pr_") {
			out = append(out, pr)
		}
	}
	sort.Ints(out)
	return out, nil
}

func (s *fakeServer) SchemaVersion(_ context.Context, db string) (int64, error) {
	return s.dbs[db].schema, nil
}

func (s *fakeServer) AtHead(_ context.Context, db string, head int64) (bool, error) {
	return s.dbs[db].schema == head, nil
}

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
	if p.envs[rel.Stack][DatabaseURLEnv] != "postgres://shop:s3cret-shop@db:5432/shop" || p.server.dbs[p.server.published].from != rel.Stack {
		t.Fatalf("release env %v, golden %s built by %q", p.envs[rel.Stack], p.server.published, p.server.dbs[p.server.published].from)
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

	if err := f.DestroyPreview(context.Background(), PreviewRequest{PR: 9}); err != nil || p.server.dbs["shop_pr_9"] != nil {
		t.Fatalf("destroy: %v; database of #9 left: %v", err, p.server.dbs["shop_pr_9"])
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
	if !found || p.server.dbs["shop_pr_10"] == nil {
		t.Fatalf("dry-run plan (must list the orphaned database and drop nothing):\n%s", b.String())
	}
}
