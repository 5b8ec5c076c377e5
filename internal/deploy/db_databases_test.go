package deploy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

func fakeDatabases(p *dbProvider, log *strings.Builder) Databases {
	return Databases{Server: p, App: "shop", Log: log}
}

// A release's golden copy is built beside the one previews clone from and
// published only once it is migrated and seeded: a refresh whose seed
// fails leaves new previews on the previous release's copy. A published
// refresh drops the copy it supersedes and says so.
func TestGoldenIsPublishedOnlyWhenMigratedAndSeeded(t *testing.T) {
	p, log := newDBFake(), &strings.Builder{}
	dbs, ctx := fakeDatabases(p, log), context.Background()
	g, err := dbs.RefreshGolden(ctx, "img-1", "shop-prod-r1")
	if err != nil || g.From != 0 || g.To != fakeHead {
		t.Fatalf("first refresh: %+v, %v; want 0 -> %d", g, err, fakeHead)
	}
	if want := []string{"migrate shop_golden_1", "seed shop_golden_1"}; !slices.Equal(p.runs, want) {
		t.Fatalf("runs %q, want %q", p.runs, want)
	}

	p.failSeed = true
	var me *MigrationError
	if _, err := dbs.RefreshGolden(ctx, "img-2", "shop-prod-r2"); !errors.As(err, &me) || !strings.Contains(err.Error(), "seed the golden database") {
		t.Fatalf("refresh with a failing seed: %v; want the seed's MigrationError", err)
	}
	pd, err := dbs.CreatePreview(ctx, 4)
	if err != nil || !pd.Cloned || pd.From != "shop-prod-r1" {
		t.Fatalf("preview after a failed refresh: %+v, %v; want a clone of shop-prod-r1's copy", pd, err)
	}

	p.failSeed = false
	if _, err := dbs.RefreshGolden(ctx, "img-3", "shop-prod-r3"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "database: dropped the superseded golden database shop_golden_1") || p.server.dbs["shop_golden_1"] != nil {
		t.Fatalf("the superseded golden copy was not dropped and said:\n%s", log)
	}
	pd, err = dbs.CreatePreview(ctx, 5)
	if err != nil || pd.From != "shop-prod-r3" || pd.URL.Reveal() != "postgres://shop_pr_5:s3cret-shop_pr_5@db:5432/shop_pr_5" {
		t.Fatalf("preview after the refresh: %+v (%s), %v; want a clone of shop-prod-r3's copy with its own role", pd, pd.URL, err)
	}
}

// A database already at the head its image's label names needs no migrate
// run, and the run says so. An image whose head the target cannot tell
// (aws) always runs, and never opens the admin for it: under the aws
// preview role the admin is denied, and only the run may touch the
// database.
func TestMigrateSkipsTheRunOnlyAtAKnownHead(t *testing.T) {
	p, log := newDBFake(), &strings.Builder{}
	dbs, ctx := fakeDatabases(p, log), context.Background()
	if _, err := dbs.RefreshGolden(ctx, "img", "shop-prod-r1"); err != nil {
		t.Fatal(err)
	}
	pd, err := dbs.CreatePreview(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}

	p.runs, p.calls = nil, nil
	m, err := dbs.Migrate(ctx, "img", pd.URL, false)
	if err != nil || m.From != fakeHead || m.To != fakeHead || len(p.runs) != 1 {
		t.Fatalf("migrate, head unknown: %+v, %v, runs %q; want one run", m, err, p.runs)
	}
	if slices.ContainsFunc(p.calls, func(c string) bool { return strings.HasPrefix(c, "admin") }) {
		t.Fatalf("migrate with the image's head unknown opened the admin: %q", p.calls)
	}

	p.runs, p.imageHeads["img"] = nil, fakeHead
	m, err = dbs.Migrate(ctx, "img", pd.URL, false)
	if err != nil || m.From != fakeHead || m.To != fakeHead || len(p.runs) != 0 {
		t.Fatalf("migrate at the image's head: %+v, %v, runs %q; want no run", m, err, p.runs)
	}
	if !strings.Contains(log.String(), "database shop_pr_7: already at head 3, no migration to run") {
		t.Fatalf("the skipped run is not said:\n%s", log)
	}

	p.imageHeads["img-4"] = fakeHead + 1
	if _, err := dbs.Migrate(ctx, "img-4", pd.URL, false); err != nil || len(p.runs) != 1 {
		t.Fatalf("migrate with a newer head: %v, runs %q; want the run", err, p.runs)
	}
}

// Listing and dropping preview databases never start a server that was
// never started (a cleanup of an app without one stays quick and leaves
// nothing behind).
func TestListAndDropDoNotStartTheServer(t *testing.T) {
	p := newDBFake()
	dbs, ctx := fakeDatabases(p, &strings.Builder{}), context.Background()
	if prs, err := dbs.Previews(ctx); err != nil || len(prs) != 0 {
		t.Fatalf("Previews without a server: %v, %v; want none", prs, err)
	}
	if err := dbs.DropPreview(ctx, 3); err != nil {
		t.Fatalf("DropPreview without a server: %v; want nothing to do", err)
	}
	if p.server != nil || !slices.Equal(p.calls, []string{"admin start=false", "admin start=false"}) {
		t.Fatalf("the server was started (%v) or asked to (%q)", p.server != nil, p.calls)
	}
}
