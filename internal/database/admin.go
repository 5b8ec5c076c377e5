package database

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ident quotes a name for SQL.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// ensureRole creates role name (LOGIN, no other privilege) or, when it
// exists, sets its password. The server quotes the password (format %L).
func ensureRole(ctx context.Context, conn *pgx.Conn, name, password string) error {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up role %s: %w", name, err)
	}
	verb := "CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD %L"
	if exists {
		verb = "ALTER ROLE %I LOGIN PASSWORD %L"
	}
	var stmt string
	if err := conn.QueryRow(ctx, "SELECT format($1::text, $2::text, $3::text)", verb, name, password).Scan(&stmt); err != nil {
		return fmt.Errorf("quote role %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("set up role %s: %w", name, err)
	}
	return joinRole(ctx, conn, name)
}

// joinRole makes an admin that is not a superuser (RDS and Aurora's master
// user) a member of role, which CREATE DATABASE ... OWNER and REASSIGN
// OWNED need. A superuser needs nothing.
func joinRole(ctx context.Context, conn *pgx.Conn, role string) error {
	var super, member bool
	err := conn.QueryRow(ctx, `SELECT rolsuper, pg_has_role(current_user, $1, 'MEMBER')
FROM pg_roles WHERE rolname = current_user`, role).Scan(&super, &member)
	if err != nil {
		return fmt.Errorf("check the admin's membership of role %s: %w", role, err)
	}
	if super || member {
		return nil
	}
	if _, err := conn.Exec(ctx, "GRANT "+ident(role)+" TO CURRENT_USER"); err != nil {
		return fmt.Errorf("let the admin act as role %s: %w", role, err)
	}
	return nil
}

// databaseExists reports whether database name exists.
func databaseExists(ctx context.Context, conn *pgx.Conn, name string) (bool, error) {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return false, fmt.Errorf("look up database %s: %w", name, err)
	}
	return exists, nil
}

// private makes database name reachable by role alone (and the superuser).
func private(ctx context.Context, conn *pgx.Conn, name, role string) error {
	stmts := []string{
		"REVOKE ALL ON DATABASE " + ident(name) + " FROM PUBLIC",
		"GRANT CONNECT, TEMPORARY ON DATABASE " + ident(name) + " TO " + ident(role),
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("restrict database %s to role %s: %w", name, role, err)
		}
	}
	return nil
}

// EnsureProduction makes sure the production database <app> exists, owned
// by the role <app> with password, and that no other role may connect to
// it. It returns the URL production stacks get as DATABASE_URL. Safe to
// re-run; an existing database keeps its data.
func (a *Admin) EnsureProduction(ctx context.Context, app, password string) (URL, error) {
	if err := checkApp(app); err != nil {
		return URL{}, err
	}
	return a.ensureDatabase(ctx, ProductionName(app), password, true)
}

// ensureDatabase makes sure role name (password) and database name exist
// (owned by the role when owned, else by the admin), that no other role may
// connect to it, and that the role may create in its public schema; it
// returns the role's URL. Safe to re-run; an existing database keeps its
// data.
func (a *Admin) ensureDatabase(ctx context.Context, name, password string, owned bool) (URL, error) {
	conn, err := a.connect(ctx, "")
	if err != nil {
		return URL{}, err
	}
	defer func() { _ = conn.Close(ctx) }() // closing a session loses nothing
	if err := ensureRole(ctx, conn, name, password); err != nil {
		return URL{}, err
	}
	exists, err := databaseExists(ctx, conn, name)
	if err != nil {
		return URL{}, err
	}
	if !exists {
		create := "CREATE DATABASE " + ident(name)
		if owned {
			create += " OWNER " + ident(name)
		}
		if _, err := conn.Exec(ctx, create); err != nil {
			return URL{}, fmt.Errorf("create database %s: %w", name, err)
		}
	}
	if err := private(ctx, conn, name, name); err != nil {
		return URL{}, err
	}
	if err := a.grantPublic(ctx, name); err != nil {
		return URL{}, err
	}
	return a.url(name, password, name), nil
}

// grantPublic lets role name (which is NOINHERIT, so it does not act
// through pg_database_owner) create in the public schema of its database.
func (a *Admin) grantPublic(ctx context.Context, name string) error {
	conn, err := a.connect(ctx, name)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }() // closing a session loses nothing
	if _, err := conn.Exec(ctx, "GRANT USAGE, CREATE ON SCHEMA public TO "+ident(name)); err != nil {
		return fmt.Errorf("let role %s create in %s: %w", name, name, err)
	}
	return nil
}

// EnsureGolden makes sure the golden database <app>_golden exists and that
// only the role <app>_golden (password) may connect to it and create in its
// public schema. The release migrates it to its head and seeds it through
// the returned URL. Its objects belong to that role, so a preview cloned
// from it can take them over (REASSIGN OWNED). Safe to re-run.
func (a *Admin) EnsureGolden(ctx context.Context, app, password string) (URL, error) {
	if err := checkApp(app); err != nil {
		return URL{}, err
	}
	return a.ensureDatabase(ctx, GoldenName(app), password, false)
}

// terminate ends every other session on database name.
func terminate(ctx context.Context, conn *pgx.Conn, name string) error {
	_, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
	if err != nil {
		return fmt.Errorf("end sessions on %s: %w", name, err)
	}
	return nil
}

// objectInUse is Postgres' "source database is being accessed by other
// users" (a session came back between terminate and CREATE DATABASE).
func objectInUse(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55006"
}

// cloneAttempts bounds how often a clone retries when sessions keep
// reaching the golden database.
const cloneAttempts = 5

// createFrom creates database name from template, ending the template's
// sessions first (CREATE DATABASE ... TEMPLATE needs it idle).
func createFrom(ctx context.Context, conn *pgx.Conn, name, template, owner string) error {
	stmt := "CREATE DATABASE " + ident(name) + " TEMPLATE " + ident(template) + " OWNER " + ident(owner)
	var err error
	for i := range cloneAttempts {
		if err = terminate(ctx, conn, template); err != nil {
			return err
		}
		if _, err = conn.Exec(ctx, stmt); err == nil || !objectInUse(err) {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("clone %s into %s: %w", template, name, ctx.Err())
		case <-time.After(time.Duration(i+1) * 100 * time.Millisecond):
		}
	}
	if err != nil {
		return fmt.Errorf("clone %s into %s: %w", template, name, err)
	}
	return nil
}

// parsePreview returns the PR number of a preview database name of app.
func parsePreview(app, name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, app+"_pr_")
	if !ok {
		return 0, false
	}
	pr, err := strconv.Atoi(rest)
	if err != nil || pr <= 0 || strconv.Itoa(pr) != rest {
		return 0, false
	}
	return pr, true
}

// pgxCollectStrings reads one text column from every row.
func pgxCollectStrings(rows pgx.Rows) ([]string, error) {
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// ResetGolden drops the golden database (ending its sessions) and creates
// it empty again with EnsureGolden, for a release that rebuilds it from the
// migrations rather than migrating the copy it has. Previews already
// cloned are not touched.
func (a *Admin) ResetGolden(ctx context.Context, app, password string) (URL, error) {
	if err := checkApp(app); err != nil {
		return URL{}, err
	}
	name := GoldenName(app)
	conn, err := a.connect(ctx, "")
	if err != nil {
		return URL{}, err
	}
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)")
	_ = conn.Close(ctx) // closing a session loses nothing
	if err != nil {
		return URL{}, fmt.Errorf("drop golden database %s: %w", name, err)
	}
	return a.EnsureGolden(ctx, app, password)
}
