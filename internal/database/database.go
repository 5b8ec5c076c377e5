// Package database administers the Postgres server an app's environments
// share: the production database <app>, the golden database <app>_golden
// that previews are cloned from, and one database per preview with a role
// that can reach only it. It connects as the server's superuser (the
// container's postgres user locally, the cluster's master user on AWS).
//
// Every name it puts in SQL is derived from a validated app name and a PR
// number, and quoted with pgx.Identifier; passwords are quoted by the server
// (format('%L')). A connection URL holding a password is a URL, whose
// String is redacted: only Reveal gives the password, for a container's
// environment.
package database

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// Admin administers one Postgres server.
type Admin struct {
	cfg     *pgx.ConnConfig
	appHost string
}

// Open checks that adminDSN (a superuser's URL, reachable from here)
// answers. appHost is host:port of the same server as the app containers
// reach it (locally "<app>-db:5432" on the app's network); the URLs Admin
// returns use it.
func Open(ctx context.Context, adminDSN, appHost string) (*Admin, error) {
	cfg, err := pgx.ParseConfig(adminDSN)
	if err != nil {
		return nil, fmt.Errorf("parse the admin database URL: %w", err)
	}
	if _, _, err := net.SplitHostPort(appHost); err != nil {
		return nil, fmt.Errorf("app host %q: want host:port: %w", appHost, err)
	}
	a := &Admin{cfg: cfg, appHost: appHost}
	conn, err := a.connect(ctx, "")
	if err != nil {
		return nil, err
	}
	return a, conn.Close(ctx)
}

// connect opens an admin connection to db ("" for the admin URL's own).
func (a *Admin) connect(ctx context.Context, db string) (*pgx.Conn, error) {
	cfg := a.cfg.Copy()
	if db != "" {
		cfg.Database = db
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to Postgres at %s as %s: %w", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), cfg.User, err)
	}
	return conn, nil
}

// appName is what an app may be called: it becomes database and role names.
var appName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)

func checkApp(app string) error {
	if !appName.MatchString(app) {
		return fmt.Errorf("app name %q cannot name a database: use 1-40 lowercase letters, digits and hyphens, starting with a letter", app)
	}
	return nil
}

// ProductionName is the database (and role) production stacks use.
func ProductionName(app string) string { return app }

// GoldenName is the database (and role) that previews are cloned from.
func GoldenName(app string) string { return app + "_golden" }

// PreviewName is the database (and role) of pull request pr.
func PreviewName(app string, pr int) string { return app + "_pr_" + strconv.Itoa(pr) }

// NewPassword returns a random password (32 hex digits).
func NewPassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate a password: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// URL is a connection URL with a password. It prints redacted (String,
// GoString, slog); Reveal returns it whole.
type URL struct{ u url.URL }

func (a *Admin) url(user, password, db string) URL {
	return NewURL(a.appHost, user, password, db, a.sslMode())
}

// NewURL returns the URL of database db on host (host:port) for user with
// password; sslmode is "disable" or "require".
func NewURL(host, user, password, db, sslmode string) URL {
	return URL{url.URL{Scheme: "postgres", User: url.UserPassword(user, password),
		Host: host, Path: "/" + db, RawQuery: "sslmode=" + url.QueryEscape(sslmode)}}
}

// sslMode keeps the admin connection's choice: off locally (a private
// network), required on AWS.
func (a *Admin) sslMode() string {
	if a.cfg.TLSConfig == nil {
		return "disable"
	}
	return "require"
}

// Reveal returns the URL with its password: for DATABASE_URL in a
// container's environment, never for output.
func (u URL) Reveal() string { return u.u.String() }

// String returns the URL with the password replaced by "xxxxx".
func (u URL) String() string { return u.u.Redacted() }

// GoString is String, so %#v does not print the password either.
func (u URL) GoString() string { return u.String() }

// MarshalText is String, so encoders do not print the password either.
func (u URL) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// Database is the database name in the URL.
func (u URL) Database() string { return u.u.Path[1:] }

// User is the role in the URL.
func (u URL) User() string { return u.u.User.Username() }
