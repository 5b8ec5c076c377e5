package database_test

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/slipway/slipway/internal/database"
	"github.com/slipway/slipway/internal/pgimage/pgtest"
	"github.com/slipway/slipway/sample-app/store"
)

// On RDS and Aurora the admin is a master user without superuser: it may
// create databases and roles and end sessions (pg_signal_backend). The
// whole preview life cycle works for such an admin too.
func TestAdminWithoutSuperuserLikeRDS(t *testing.T) {
	s := pgtest.Start(t)
	ctx := context.Background()
	root, err := pgx.Connect(ctx, s.AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = root.Close(ctx) }()
	for _, stmt := range []string{
		"CREATE ROLE master LOGIN CREATEDB CREATEROLE PASSWORD 'master-pw'",
		"GRANT pg_signal_backend TO master",
		"CREATE DATABASE masterdb OWNER master",
	} {
		if _, err := root.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	a, err := database.Open(ctx, s.DSN("master", "master-pw", "masterdb"), net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.EnsureProduction(ctx, app, password(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, a)
	p, err := a.EnsurePreview(ctx, app, 9, password(t))
	if err != nil {
		t.Fatalf("preview with a non-superuser admin: %v", err)
	}
	if _, err := store.Migrate(ctx, p.URL.Reveal(), store.MigrateOptions{}); err != nil {
		t.Fatalf("the preview role migrates its clone: %v", err)
	}
	if err := a.DropPreview(ctx, app, 9); err != nil {
		t.Fatal(err)
	}
	if prs, err := a.ListPreviews(ctx, app); err != nil || len(prs) != 0 {
		t.Errorf("ListPreviews after drop = %v, %v; want none", prs, err)
	}
}
