package database

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
)

// Preview is a pull request's database.
type Preview struct {
	PR       int
	Database string // also the name of its role
	Cloned   bool   // false when the database already existed and was kept
	URL      URL    // DATABASE_URL for the preview's containers
}

// EnsurePreview gives pull request pr its own database, cloned from the
// golden one (which must exist: EnsureGolden), and a role of the same name
// with password that owns it and everything in it, and can connect to no
// other database. An existing preview database is kept (its data survives
// a re-deploy of the PR) and its role's password is set to password, so
// pass the one the preview already runs with when there is one. Migrate the
// result to the PR's head through URL.
func (a *Admin) EnsurePreview(ctx context.Context, app string, pr int, password string) (Preview, error) {
	if err := checkApp(app); err != nil {
		return Preview{}, err
	}
	if pr <= 0 {
		return Preview{}, fmt.Errorf("preview database: PR number %d must be positive", pr)
	}
	name, golden := PreviewName(app, pr), GoldenName(app)
	conn, err := a.connect(ctx, "")
	if err != nil {
		return Preview{}, err
	}
	defer func() { _ = conn.Close(ctx) }() // closing a session loses nothing
	if err := a.closeShared(ctx, conn); err != nil {
		return Preview{}, err
	}
	if err := ensureRole(ctx, conn, name, password); err != nil {
		return Preview{}, err
	}
	exists, err := databaseExists(ctx, conn, name)
	if err != nil {
		return Preview{}, err
	}
	p := Preview{PR: pr, Database: name, Cloned: !exists, URL: a.url(name, password, name)}
	if exists {
		if err := private(ctx, conn, name, name); err != nil {
			return Preview{}, err
		}
		return p, a.grantPublic(ctx, name)
	}
	if ok, err := databaseExists(ctx, conn, golden); err != nil {
		return Preview{}, err
	} else if !ok {
		return Preview{}, fmt.Errorf("clone preview database %s: the golden database %s does not exist yet (a release creates it; run one first)", name, golden)
	}
	if err := createFrom(ctx, conn, name, golden, name); err != nil {
		return Preview{}, err
	}
	if err := private(ctx, conn, name, name); err != nil {
		return Preview{}, err
	}
	if err := a.takeOver(ctx, name, golden); err != nil {
		return Preview{}, err
	}
	return p, a.grantPublic(ctx, name)
}

// takeOver gives the preview role what the golden role created in the
// clone, and leaves the golden role no privilege there.
func (a *Admin) takeOver(ctx context.Context, name, golden string) error {
	conn, err := a.connect(ctx, name)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }() // closing a session loses nothing
	stmts := []string{
		"REASSIGN OWNED BY " + ident(golden) + " TO " + ident(name),
		"DROP OWNED BY " + ident(golden),
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("give %s the objects cloned from %s: %w", name, golden, err)
		}
	}
	return nil
}

// DropPreview drops pull request pr's database (ending its sessions) and
// its role. Dropping what is already gone succeeds.
func (a *Admin) DropPreview(ctx context.Context, app string, pr int) error {
	if err := checkApp(app); err != nil {
		return err
	}
	name := PreviewName(app, pr)
	conn, err := a.connect(ctx, "")
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }() // closing a session loses nothing
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop preview database %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "DROP ROLE IF EXISTS "+ident(name)); err != nil {
		return fmt.Errorf("drop preview role %s: %w", name, err)
	}
	return nil
}

// ListPreviews returns the PR numbers that have a preview database of app,
// in order, for cleanup to compare with the previews that still exist.
func (a *Admin) ListPreviews(ctx context.Context, app string) ([]int, error) {
	if err := checkApp(app); err != nil {
		return nil, err
	}
	conn, err := a.connect(ctx, "")
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close(ctx) }() // closing a session loses nothing
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", app+"_pr_")
	if err != nil {
		return nil, fmt.Errorf("list preview databases of %s: %w", app, err)
	}
	names, err := pgxCollectStrings(rows)
	if err != nil {
		return nil, fmt.Errorf("list preview databases of %s: %w", app, err)
	}
	var prs []int
	for _, n := range names {
		if pr, ok := parsePreview(app, n); ok {
			prs = append(prs, pr)
		}
	}
	sort.Ints(prs)
	return prs, nil
}

// closeShared takes from PUBLIC the right to connect to the databases every
// server has (the admin's own and template1), so a preview role can reach
// its database alone. The superuser keeps it.
func (a *Admin) closeShared(ctx context.Context, conn *pgx.Conn) error {
	for _, db := range []string{a.cfg.Database, "template1"} {
		if db == "" {
			continue
		}
		if _, err := conn.Exec(ctx, "REVOKE CONNECT ON DATABASE "+ident(db)+" FROM PUBLIC"); err != nil {
			return fmt.Errorf("close database %s to other roles: %w", db, err)
		}
	}
	return nil
}
