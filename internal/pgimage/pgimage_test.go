package pgimage_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/slipway/slipway/internal/pgimage"
	"github.com/slipway/slipway/internal/pgimage/pgtest"
)

// The local image initializes a cluster on first start, takes the
// superuser's password over TCP from another address than its own (scram),
// and refuses a wrong one.
func TestLocalImageServesPostgresWithScram(t *testing.T) {
	s := pgtest.Start(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.AdminDSN())
	if err != nil {
		t.Fatalf("connect as superuser: %v", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var version, method, lc string
	if err := conn.QueryRow(ctx, "SELECT version(), current_setting('password_encryption'), current_setting('lc_collate')").Scan(&version, &method, &lc); err != nil {
		t.Fatalf("query server settings: %v", err)
	}
	if !strings.HasPrefix(version, "PostgreSQL ") || method != "scram-sha-256" || lc != "C" {
		t.Errorf("server says version %q, password_encryption %q, lc_collate %q; want PostgreSQL, scram-sha-256, C", version, method, lc)
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
