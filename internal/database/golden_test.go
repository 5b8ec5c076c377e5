package database_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slipway/slipway/internal/database"
	"github.com/slipway/slipway/sample-app/store"
)

// refresh builds a new golden database as a release does: created empty,
// migrated (expand only), seeded, then published for release.
func refresh(t testing.TB, a *database.Admin, release string) []string {
	t.Helper()
	ctx := context.Background()
	u, err := a.BuildGolden(ctx, app, password(t))
	if err != nil {
		t.Error(err)
		return nil
	}
	if _, err := store.Migrate(ctx, u.Reveal(), store.MigrateOptions{ExpandOnly: true}); err != nil {
		t.Errorf("migrate golden %s: %v", u.Database(), err)
		return nil
	}
	if err := store.Seed(ctx, u.Reveal()); err != nil {
		t.Errorf("seed golden %s: %v", u.Database(), err)
		return nil
	}
	dropped, err := a.PublishGolden(ctx, app, u.Database(), release)
	if err != nil {
		t.Error(err)
	}
	return dropped
}

// goldenNames lists the golden databases on the server.
func goldenNames(t testing.TB, a *pgx.Conn) []string {
	t.Helper()
	rows, err := a.Query(context.Background(), "SELECT datname::text FROM pg_database WHERE starts_with(datname, 'shop_golden') ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// A release rebuilds the golden database while other processes clone
// previews from it. Before versioned goldens a clone then failed ("source
// database is being accessed by other users": the migrate and seed
// sessions were on it) or copied it half-built (no seed yet). Now every
// clone succeeds, copies a complete golden database (seeded, at the
// release's schema) and says which release built it, and superseded
// golden databases are dropped.
func TestGoldenRefreshRacesClones(t *testing.T) {
	s, a := server(t)
	ctx := context.Background()
	refresh(t, a, "r1")
	other := openAdmin(t, s, s.DSN("master", "master-pw", "postgres")) // another process
	const refreshes, minClones = 4, 8
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := range refreshes {
			refresh(t, other, fmt.Sprintf("r%d", i+2))
		}
	}()
	var clones []database.Preview
	deadline := time.Now().Add(2 * time.Minute)
	for pr := 1; time.Now().Before(deadline); pr++ {
		p, err := a.EnsurePreview(ctx, app, pr, password(t))
		if err != nil {
			t.Fatalf("clone #%d during a golden refresh: %v", pr, err)
		}
		clones = append(clones, p)
		select {
		case <-done:
		default:
			continue
		}
		if len(clones) >= minClones {
			break
		}
	}
	wg.Wait()
	releases := map[string]int{}
	for _, p := range clones {
		if !p.Cloned {
			t.Errorf("#%d: Cloned = false, want a fresh clone", p.PR)
		}
		releases[p.From]++
		c := connect(t, p.URL)
		if n := countNotes(t, c, "Seeded by the sample app: every environment starts with this note."); n != 1 {
			t.Errorf("#%d (from %s): seeded notes = %d, want 1: the clone copied a golden database before its seed", p.PR, p.From, n)
		}
		v, err := store.SchemaVersion(ctx, p.URL.Reveal())
		if err != nil || v == 0 {
			t.Errorf("#%d (from %s): schema %d, %v; want the golden's migrated schema", p.PR, p.From, v, err)
		}
		_ = c.Close(ctx)
	}
	for r := range releases {
		if !slices.Contains([]string{"r1", "r2", "r3", "r4", "r5"}, r) {
			t.Errorf("a clone says it came from release %q, want r1-r5", r)
		}
	}
	t.Logf("%d clones during %d refreshes, by release: %v", len(clones), refreshes, releases)
	root, err := pgx.Connect(ctx, s.AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = root.Close(ctx) }()
	if names := goldenNames(t, root); len(names) != 1 {
		t.Errorf("golden databases left = %v, want only the newest (superseded ones dropped)", names)
	}
	p, err := a.EnsurePreview(ctx, app, 1000, password(t))
	if err != nil || p.From != "r5" {
		t.Errorf("a clone after the refreshes comes from %q (%v), want r5", p.From, err)
	}
}

// A golden database being built is never cloned: until PublishGolden a
// preview still comes from the previous one, and an unfinished build
// counts as no golden database at all.
func TestUnpublishedGoldenIsNotCloned(t *testing.T) {
	_, a := server(t)
	ctx := context.Background()
	building, err := a.BuildGolden(ctx, app, password(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.EnsurePreview(ctx, app, 1, password(t)); err == nil {
		t.Fatalf("clone with only an unfinished golden database %s succeeded, want an error", building.Database())
	}
	refresh(t, a, "r1")
	next, err := a.BuildGolden(ctx, app, password(t))
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.EnsurePreview(ctx, app, 2, password(t))
	if err != nil || p.From != "r1" {
		t.Fatalf("clone while %s is built: from %q, %v; want r1", next.Database(), p.From, err)
	}
	if _, err := a.PublishGolden(ctx, app, "shop_pr_2", "r2"); err == nil {
		t.Error("PublishGolden of a preview database succeeded, want an error")
	}
}

// A server set up before goldens were versioned has the unversioned
// <app>_golden (made by the master user, as every role and database on
// RDS): previews clone from it until the first release publishes a
// versioned one, which drops it.
func TestUnversionedGoldenServesUntilTheFirstPublish(t *testing.T) {
	s, a := server(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.DSN("master", "master-pw", "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	for _, stmt := range []string{"CREATE ROLE shop_golden LOGIN", "GRANT shop_golden TO master WITH INHERIT TRUE, SET TRUE",
		"CREATE DATABASE shop_golden OWNER shop_golden", "COMMENT ON DATABASE shop_golden IS 'slipway release r0'"} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	p, err := a.EnsurePreview(ctx, app, 1, password(t))
	if err != nil || !p.Cloned || p.From != "r0" {
		t.Fatalf("clone from the unversioned golden: %+v, %v; want cloned from r0", p, err)
	}
	dropped := refresh(t, a, "r1")
	if !slices.Equal(dropped, []string{"shop_golden"}) {
		t.Fatalf("the first publish dropped %q, want the unversioned shop_golden", dropped)
	}
	if names := goldenNames(t, conn); len(names) != 1 || names[0] == "shop_golden" {
		t.Fatalf("golden databases left %q, want only the versioned one", names)
	}
	p, err = a.EnsurePreview(ctx, app, 2, password(t))
	if err != nil || p.From != "r1" {
		t.Fatalf("clone after the publish: from %q, %v; want r1", p.From, err)
	}
}
