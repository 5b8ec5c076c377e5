package database_test

import (
	"context"
	"testing"

	"github.com/slipway/slipway/sample-app/store"
)

// The admin reads the schema a database is at from goose's table, and
// says a database is at an image's head only when versions 1 to head are
// applied, each once, none rolled back: that is when the image's migrate
// run would do nothing, so the run can be skipped.
func TestSchemaVersionAndAtHead(t *testing.T) {
	_, a := server(t)
	ctx := context.Background()
	u, err := a.EnsureProduction(ctx, app, password(t))
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, wantVersion int64, head int64, wantAt bool) {
		t.Helper()
		v, err := a.SchemaVersion(ctx, u.Database())
		if err != nil || v != wantVersion {
			t.Errorf("%s: SchemaVersion = %d, %v; want %d", when, v, err, wantVersion)
		}
		at, err := a.AtHead(ctx, u.Database(), head)
		if err != nil || at != wantAt {
			t.Errorf("%s: AtHead(%d) = %v, %v; want %v", when, head, at, err, wantAt)
		}
	}
	check("never migrated (no goose table)", 0, store.SchemaHead, false)
	if _, err := store.Migrate(ctx, u.Reveal(), store.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	check("migrated", store.SchemaHead, store.SchemaHead, true)
	check("an image with a newer head", store.SchemaHead, store.SchemaHead+1, false)
	check("an image that says no head", store.SchemaHead, 0, false)

	conn := connect(t, u)
	if _, err := conn.Exec(ctx, "INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, false), ($1, true)", store.SchemaHead); err != nil {
		t.Fatal(err)
	}
	check("a version rolled back and applied again", store.SchemaHead, store.SchemaHead, false)
	if _, err := conn.Exec(ctx, "DELETE FROM goose_db_version WHERE NOT is_applied OR version_id = 2"); err != nil {
		t.Fatal(err)
	}
	check("a gap in the versions", store.SchemaHead, store.SchemaHead, false)
}
