package pgimage_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/pgimage"
	"github.com/slipway/slipway/internal/pgimage/pgtest"
)

// The local image initializes a cluster on first start, runs the Postgres
// major of the Aurora cluster, takes the superuser's password over TCP
// from another address than its own (scram), and refuses a wrong one.
func TestLocalImageServesPostgresWithScram(t *testing.T) {
	s := pgtest.Start(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.AdminDSN())
	if err != nil {
		t.Fatalf("connect as superuser: %v", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var version, major, method, lc string
	if err := conn.QueryRow(ctx, "SELECT version(), (current_setting('server_version_num')::int / 10000)::text, current_setting('password_encryption'), (SELECT datcollate FROM pg_database WHERE datname = current_database())").Scan(&version, &major, &method, &lc); err != nil {
		t.Fatalf("query server settings: %v", err)
	}
	if !strings.HasPrefix(version, "PostgreSQL ") || major != pgimage.Major || method != "scram-sha-256" || lc != "C" {
		t.Errorf("server says version %q (major %s), password_encryption %q, collation %q; want PostgreSQL %s, scram-sha-256, C", version, major, method, lc, pgimage.Major)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t (x text); INSERT INTO t VALUES ('kept')"); err != nil {
		t.Fatalf("write: %v", err)
	}

	bad, err := pgx.Connect(ctx, s.DSN("postgres", "wrong-password", "postgres"))
	if err == nil {
		_ = bad.Close(ctx)
		t.Fatal("a wrong password was accepted")
	}
	if !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("wrong password: got %v, want a password authentication failure", err)
	}
}

// The database tests run the Postgres major the aws target's Aurora cluster
// runs, and a user's machine pulls the official image of that major.
func TestMajorIsAuroras(t *testing.T) {
	aurora, _, _ := strings.Cut(infra.DatabaseEngineVersion, ".")
	if pgimage.Major != aurora {
		t.Errorf("pgimage.Major = %s, but the Aurora cluster runs %s (infra.DatabaseEngineVersion %s)", pgimage.Major, aurora, infra.DatabaseEngineVersion)
	}
	if pgimage.DefaultImage != "postgres:"+aurora {
		t.Errorf("DefaultImage = %s, want postgres:%s", pgimage.DefaultImage, aurora)
	}
}

func TestImageFromEnv(t *testing.T) {
	for name, tc := range map[string]struct{ env, want string }{
		"the official image by default": {"", pgimage.DefaultImage},
		"the setting when given":        {"slipway-postgres:local", "slipway-postgres:local"},
	} {
		t.Run(name, func(t *testing.T) {
			got := pgimage.ImageFromEnv(func(k string) string {
				if k == pgimage.EnvImage {
					return tc.env
				}
				return ""
			})
			if got != tc.want {
				t.Errorf("ImageFromEnv = %q, want %q", got, tc.want)
			}
		})
	}
}
