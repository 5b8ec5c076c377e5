package database_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/slipway/slipway/internal/database"
	"github.com/slipway/slipway/internal/pgimage"
	"github.com/slipway/slipway/sample-app/store"
)

// On RDS and Aurora the admin is a master user without superuser: it may
// create databases and roles and end sessions (pg_signal_backend). Since
// PostgreSQL 16 ("Restrict the privileges of CREATEROLE and its ability to
// modify other roles", PostgreSQL 16 release notes, Migration to Version
// 16; createrole_self_grant, which is empty by default, came with it) such
// a user is a member of each role it creates WITH ADMIN but neither SET
// nor INHERIT, so pg_has_role(..., 'MEMBER') is already true. An admin that
// took that for enough failed on CREATE DATABASE ... OWNER ("must be able
// to SET ROLE"), REASSIGN OWNED ("permission denied to reassign objects")
// and DROP DATABASE ("must be owner of database"). The whole preview life
// cycle works for such an admin, on the Postgres major Aurora runs.
func TestAdminWithoutSuperuserLikeRDS(t *testing.T) {
	s, a := server(t)
	ctx := context.Background()
	master, err := pgx.Connect(ctx, s.DSN("master", "master-pw", "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = master.Close(ctx) }()
	var super bool
	var version int
	if err := master.QueryRow(ctx, "SELECT rolsuper, current_setting('server_version_num')::int FROM pg_roles WHERE rolname = current_user").Scan(&super, &version); err != nil {
		t.Fatal(err)
	}
	if major := strconv.Itoa(version / 10000); super || major != pgimage.Major {
		t.Fatalf("admin is superuser: %v, server major %s; want an RDS-like master user on PostgreSQL %s", super, major, pgimage.Major)
	}

	if _, err := a.EnsureProduction(ctx, app, password(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, a)
	p, err := a.EnsurePreview(ctx, app, 9, password(t))
	if err != nil {
		t.Fatalf("preview with a non-superuser admin: %v", err)
	}
	for _, role := range []string{app, database.GoldenName(app), p.Database} {
		var set, usage bool
		if err := master.QueryRow(ctx, "SELECT pg_has_role('master', $1, 'SET'), pg_has_role('master', $1, 'USAGE')", role).Scan(&set, &usage); err != nil {
			t.Fatal(err)
		}
		if !set || !usage {
			t.Errorf("master may SET ROLE %s: %v, has its privileges: %v; want both", role, set, usage)
		}
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
