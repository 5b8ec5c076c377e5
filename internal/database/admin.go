package database

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ident quotes a name for SQL.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// ensureRole creates role name (LOGIN, no other privilege) or, when it
// exists, sets its password. The server quotes the password (format %L).
func ensureRole(ctx context.Context, s Session, name, password string) error {
	exists, _, err := one(ctx, s, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = @name)::text", Arg{"name", name})
	if err != nil {
		return fmt.Errorf("look up role %s: %w", name, err)
	}
	verb := "CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD %L"
	if exists == "true" {
		verb = "ALTER ROLE %I LOGIN PASSWORD %L"
	}
	stmt, _, err := one(ctx, s, "SELECT format(@verb::text, @name::text, @password::text)",
		Arg{"verb", verb}, Arg{"name", name}, Arg{"password", password})
	if err != nil {
		return fmt.Errorf("quote role %s: %w", name, err)
	}
	if _, err := s.Query(ctx, stmt); err != nil && (exists == "true" || sqlState(err) != stateDuplicateRole) {
		return fmt.Errorf("set up role %s: %w", name, err)
	} else if err != nil { // created meanwhile by another process: set its password
		return ensureRole(ctx, s, name, password)
	}
	return joinRole(ctx, s, name)
}

// joinRole lets an admin that is not a superuser (RDS and Aurora's master
// user) act as role: SET ROLE to it, which CREATE DATABASE ... OWNER needs,
// and inherit its privileges, which REASSIGN OWNED and dropping or
// commenting on a database the role owns need. A superuser needs nothing.
//
// From PostgreSQL 16 a CREATEROLE user is made a member of each role it
// creates WITH ADMIN OPTION but, unless createrole_self_grant says
// otherwise, neither SET nor INHERIT: membership is there and says
// nothing, so the admin grants itself both (its ADMIN OPTION allows it).
// Up to 15 membership is all there is, and the admin inherits it.
func joinRole(ctx context.Context, s Session, role string) error {
	rows, err := s.Query(ctx, `SELECT rolsuper::text, (current_setting('server_version_num')::int >= 160000)::text,
  pg_has_role(current_user, @role, 'MEMBER')::text, pg_has_role(current_user, @role, 'USAGE')::text
FROM pg_roles WHERE rolname = current_user`, Arg{"role", role})
	if err != nil || len(rows) != 1 || len(rows[0]) != 4 || slices.Contains(rows[0], nil) {
		return fmt.Errorf("check the admin's membership of role %s: %w (%d rows)", role, err, len(rows))
	}
	super, v16, member, usage := *rows[0][0] == "true", *rows[0][1] == "true", *rows[0][2] == "true", *rows[0][3] == "true"
	grant := "GRANT " + ident(role) + " TO CURRENT_USER"
	switch {
	case super:
		return nil
	case v16:
		set, _, err := one(ctx, s, "SELECT pg_has_role(current_user, @role, 'SET')::text", Arg{"role", role})
		if err != nil {
			return fmt.Errorf("check whether the admin may SET ROLE %s: %w", role, err)
		}
		if set == "true" && usage {
			return nil
		}
		grant += " WITH INHERIT TRUE, SET TRUE"
	case member:
		return nil
	}
	if err := run(ctx, s, grant); err != nil {
		return fmt.Errorf("let the admin act as role %s: %w", role, err)
	}
	return nil
}

// databaseExists reports whether database name exists.
func databaseExists(ctx context.Context, s Session, name string) (bool, error) {
	v, _, err := one(ctx, s, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = @name)::text", Arg{"name", name})
	if err != nil {
		return false, fmt.Errorf("look up database %s: %w", name, err)
	}
	return v == "true", nil
}

// private makes database name reachable by role alone (and the superuser).
func private(ctx context.Context, s Session, name, role string) error {
	err := run(ctx, s,
		"REVOKE ALL ON DATABASE "+ident(name)+" FROM PUBLIC",
		"GRANT CONNECT, TEMPORARY ON DATABASE "+ident(name)+" TO "+ident(role))
	if err != nil {
		return fmt.Errorf("restrict database %s to role %s: %w", name, role, err)
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
	return a.ensureDatabase(ctx, ProductionName(app), ProductionName(app), password, true)
}

// ensureDatabase makes sure role (password) and database name exist (owned
// by the role when owned, else by the admin), that no other role may
// connect to it, and that the role may create in its public schema; it
// returns the role's URL. Safe to re-run; an existing database keeps its
// data.
func (a *Admin) ensureDatabase(ctx context.Context, name, role, password string, owned bool) (URL, error) {
	err := a.with(ctx, "", func(s Session) error {
		if err := ensureRole(ctx, s, role, password); err != nil {
			return err
		}
		exists, err := databaseExists(ctx, s, name)
		if err != nil {
			return err
		}
		if !exists {
			create := "CREATE DATABASE " + ident(name)
			if owned {
				create += " OWNER " + ident(role)
			}
			if err := run(ctx, s, create); err != nil && sqlState(err) != stateDuplicateDB {
				return fmt.Errorf("create database %s: %w", name, err)
			}
		}
		return private(ctx, s, name, role)
	})
	if err != nil {
		return URL{}, err
	}
	if err := a.grantPublic(ctx, name, role); err != nil {
		return URL{}, err
	}
	return a.url(role, password, name), nil
}

// grantPublic lets role (which is NOINHERIT, so it does not act through
// pg_database_owner) create in the public schema of database db.
func (a *Admin) grantPublic(ctx context.Context, db, role string) error {
	return a.with(ctx, db, func(s Session) error {
		if err := run(ctx, s, "GRANT USAGE, CREATE ON SCHEMA public TO "+ident(role)); err != nil {
			return fmt.Errorf("let role %s create in %s: %w", role, db, err)
		}
		return nil
	})
}

// terminate ends every other session on database name.
func terminate(ctx context.Context, s Session, name string) error {
	_, err := s.Query(ctx, "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE datname = @name AND pid <> pg_backend_pid()", Arg{"name", name})
	if err != nil {
		return fmt.Errorf("end sessions on %s: %w", name, err)
	}
	return nil
}

// cloneAttempts bounds how often a clone retries when sessions keep
// reaching the golden database.
const cloneAttempts = 5

// createFrom creates database name from template, ending the template's
// sessions first (CREATE DATABASE ... TEMPLATE needs it idle). A template
// that disappeared meanwhile (a newer golden superseded it) is an error
// with SQLSTATE 3D000, for the caller to pick the newer one.
func createFrom(ctx context.Context, s Session, name, template, owner string) error {
	stmt := "CREATE DATABASE " + ident(name) + " TEMPLATE " + ident(template) + " OWNER " + ident(owner)
	var err error
	for i := range cloneAttempts {
		if err = terminate(ctx, s, template); err != nil {
			return err
		}
		if err = run(ctx, s, stmt); err == nil || sqlState(err) != stateObjectInUse {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("clone %s into %s: %w", template, name, ctx.Err())
		case <-time.After(time.Duration(i+1) * 100 * time.Millisecond):
		}
	}
	if errors.Is(err, ErrStillRunning) {
		err = waitForDatabase(ctx, s, name)
	}
	if err != nil {
		return fmt.Errorf("clone %s into %s: %w", template, name, err)
	}
	return nil
}

// cloneWait bounds how long a clone the executor stopped waiting for may
// take on the server (a large golden copy), and cloneWaitPoll how often
// it is looked for.
var cloneWait, cloneWaitPoll = 15 * time.Minute, 5 * time.Second

// waitForDatabase waits, bounded, until database name exists: CREATE
// DATABASE commits its catalog row when the copy is complete, so the row
// says the statement that went on without the client has ended.
func waitForDatabase(ctx context.Context, s Session, name string) error {
	deadline := time.Now().Add(cloneWait)
	for {
		rows, err := s.Query(ctx, "SELECT datname::text FROM pg_database WHERE datname = @name", Arg{Name: "name", Value: name})
		if err != nil {
			return fmt.Errorf("look for database %s, whose creation went on without us: %w", name, err)
		}
		if len(rows) > 0 {
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("database %s was not created within %s after the client stopped waiting: %w (look for a running CREATE DATABASE in pg_stat_activity)", name, cloneWait, ErrStillRunning)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(cloneWaitPoll):
		}
	}
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

// column returns the first column of rows (NULLs left out).
func column(rows [][]*string) []string {
	var out []string
	for _, r := range rows {
		if len(r) > 0 && r[0] != nil {
			out = append(out, *r[0])
		}
	}
	return out
}

// dropDatabase drops database name, ending its sessions; gone already is
// fine.
func dropDatabase(ctx context.Context, s Session, name string) error {
	return run(ctx, s, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)")
}
