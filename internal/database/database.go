// Package database administers the Postgres server an app's environments
// share: the production database <app>, the golden databases
// <app>_golden_<version> that previews are cloned from (golden.go: a
// refresh builds a new one and publishes it when complete, so a clone
// never meets one being rebuilt), and one database per preview with a role
// that can reach only it. It acts as the server's admin (the container's
// postgres user locally, the cluster's master user on AWS) through an
// Executor (exec.go): pgx connections locally, the RDS Data API on AWS
// (package awsprov), the same statements either way.
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
)

// Admin administers one Postgres server through an Executor.
type Admin struct {
	x       Executor
	adminDB string // the database admin statements run on
	appHost string
	ssl     string
}

// Config says where an Admin's URLs point.
type Config struct {
	// AdminDB is the database the admin's own statements run on
	// ("postgres"); no preview role may connect to it.
	AdminDB string
	// AppHost is host:port of the server as the app's containers reach it.
	AppHost string
	// SSLMode of the URLs the Admin returns: "disable" or "require".
	SSLMode string
}

// Open checks that adminDSN (a superuser's URL, reachable from here)
// answers, through pgx. appHost is host:port of the same server as the app
// containers reach it (locally "<app>-db:5432" on the app's network); the
// URLs Admin returns use it, with TLS when the admin URL uses it.
func Open(ctx context.Context, adminDSN, appHost string) (*Admin, error) {
	x, err := NewPgxExecutor(adminDSN)
	if err != nil {
		return nil, err
	}
	ssl := "disable"
	if x.cfg.TLSConfig != nil {
		ssl = "require"
	}
	return New(ctx, x, Config{AdminDB: x.cfg.Database, AppHost: appHost, SSLMode: ssl})
}

// New checks that x answers on c.AdminDB and returns its Admin.
func New(ctx context.Context, x Executor, c Config) (*Admin, error) {
	if _, _, err := net.SplitHostPort(c.AppHost); err != nil {
		return nil, fmt.Errorf("app host %q: want host:port: %w", c.AppHost, err)
	}
	if c.SSLMode != "disable" && c.SSLMode != "require" {
		return nil, fmt.Errorf("sslmode %q: want disable or require", c.SSLMode)
	}
	if c.AdminDB == "" {
		c.AdminDB = "postgres"
	}
	a := &Admin{x: x, adminDB: c.AdminDB, appHost: c.AppHost, ssl: c.SSLMode}
	s, err := a.open(ctx, "")
	if err != nil {
		return nil, err
	}
	if _, err := s.Query(ctx, "SELECT 1::text"); err != nil {
		_ = s.Close(ctx) // the check failed already
		return nil, fmt.Errorf("reach the database server: %w", err)
	}
	return a, s.Close(ctx)
}

// open opens an admin session on db ("" for the admin database).
func (a *Admin) open(ctx context.Context, db string) (Session, error) {
	if db == "" {
		db = a.adminDB
	}
	return a.x.Open(ctx, db)
}

// with runs fn in an admin session on db.
func (a *Admin) with(ctx context.Context, db string, fn func(Session) error) error {
	s, err := a.open(ctx, db)
	if err != nil {
		return err
	}
	defer func() { _ = s.Close(ctx) }() // closing a session loses nothing
	return fn(s)
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

// sslMode is the URLs' sslmode: off locally (a private network),
// required on AWS.
func (a *Admin) sslMode() string { return a.ssl }

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
