package store_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/slipway/slipway/internal/pgimage/pgtest"
	"github.com/slipway/slipway/sample-app/store"
)

func TestMigrationsAreMarkedAndMatchTheConstants(t *testing.T) {
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var kinds []store.Kind
	for _, m := range ms {
		kinds = append(kinds, m.Kind)
	}
	if want := []store.Kind{store.Expand, store.Expand, store.Contract}; !slices.Equal(kinds, want) {
		t.Errorf("kinds = %v, want %v", kinds, want)
	}
	head, minV, err := store.Schema()
	if err != nil || head != store.SchemaHead || minV != store.MinSchema {
		t.Errorf("Schema() = %d, %d, %v; the constants say %d, %d: update them (only tests read them)", head, minV, err, store.SchemaHead, store.MinSchema)
	}
}

func TestMigrateExpandOnlyHoldsTheContractMigration(t *testing.T) {
	s := pgtest.Start(t)
	ctx := context.Background()
	dsn := s.AdminDSN()
	var log bytes.Buffer
	res, err := store.Migrate(ctx, dsn, store.MigrateOptions{ExpandOnly: true, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if res.From != 0 || res.To != 2 || len(res.Held) != 1 || res.Held[0].Name != "00003_drop_visits.sql" || res.Held[0].Kind != store.Contract {
		t.Fatalf("expand-only migrate = %+v, want 0 -> 2 holding the contract 00003_drop_visits.sql", res)
	}
	if len(res.Applied) != 2 || res.Applied[1].Name != "00002_visit_counter.sql" || res.Applied[1].Kind != store.Expand {
		t.Fatalf("expand-only migrate applied %+v, want 00001 and 00002 (expand)", res.Applied)
	}
	if !strings.Contains(log.String(), "applied 00002_visit_counter.sql") {
		t.Errorf("log does not name the applied migrations:\n%s", log.String())
	}

	// A build at schema 1 writes visits rows; they survive the expand step.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, "INSERT INTO visits DEFAULT VALUES"); err != nil {
		t.Errorf("the schema-1 table is gone after expand-only: %v", err)
	}

	again, err := store.Migrate(ctx, dsn, store.MigrateOptions{ExpandOnly: true})
	if err != nil || again.From != 2 || again.To != 2 {
		t.Errorf("re-run expand-only = %+v, %v; want 2 -> 2", again, err)
	}
	full, err := store.Migrate(ctx, dsn, store.MigrateOptions{})
	if err != nil || full.To != 3 || len(full.Held) != 0 || len(full.Applied) != 1 || full.Applied[0].Kind != store.Contract {
		t.Fatalf("full migrate = %+v, %v; want -> 3 applying the contract", full, err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO visits DEFAULT VALUES"); err == nil {
		t.Error("the contract migration did not drop visits")
	}
	if v, err := store.SchemaVersion(ctx, dsn); err != nil || v != 3 {
		t.Errorf("SchemaVersion = %d, %v; want 3", v, err)
	}
}

func TestStoreCountsVisitsAndSeedsOnce(t *testing.T) {
	s := pgtest.Start(t)
	ctx := context.Background()
	dsn := s.AdminDSN()
	st, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if v, err := st.SchemaVersion(ctx); err != nil || v != 0 {
		t.Errorf("schema of a new database = %d, %v; want 0", v, err)
	}
	if _, err := store.Migrate(ctx, dsn, store.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := store.Seed(ctx, dsn); err != nil {
			t.Fatal(err)
		}
	}
	notes, err := st.Notes(ctx, 10)
	if err != nil || len(notes) != 1 {
		t.Errorf("notes after seeding twice = %v, %v; want the one seed note", notes, err)
	}
	for want := int64(1); want <= 3; want++ {
		if n, err := st.Visit(ctx); err != nil || n != want {
			t.Errorf("visit %d: got %d, %v", want, n, err)
		}
	}
	if _, err := st.AddNote(ctx, ""); err == nil {
		t.Error("an empty note was stored")
	}
	if _, err := store.Open("postgres://u:hunter2@[::1"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad DATABASE_URL: got %v, want an error without the password", err)
	}
	if _, err := store.Migrate(ctx, "", store.MigrateOptions{}); err == nil || !strings.Contains(err.Error(), "DATABASE_URL is not set") {
		t.Errorf("migrate without a URL: got %v", err)
	}
}

// -to stops at a version whatever its kind (Slipway brings a copy to
// production's schema with it), and never goes back.
func TestMigrateToStopsAtTheVersion(t *testing.T) {
	s := pgtest.Start(t)
	ctx := context.Background()
	dsn := s.AdminDSN()
	for _, tc := range []struct {
		to, from, want int64
		applied        int
	}{{1, 0, 1, 1}, {3, 1, 3, 2}, {2, 3, 3, 0}} {
		res, err := store.Migrate(ctx, dsn, store.MigrateOptions{To: tc.to})
		if err != nil || res.From != tc.from || res.To != tc.want || len(res.Applied) != tc.applied {
			t.Fatalf("migrate -to %d = %+v, %v; want %d -> %d applying %d", tc.to, res, err, tc.from, tc.want, tc.applied)
		}
	}
}
