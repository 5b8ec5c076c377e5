package pgimage_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	dockerimage "github.com/docker/docker/api/types/image"
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

// puller answers ImagePull with a canned stream, or an error.
type puller struct {
	stream string
	err    error
}

func (p puller) ImagePull(context.Context, string, dockerimage.PullOptions) (io.ReadCloser, error) {
	if p.err != nil {
		return nil, p.err
	}
	return io.NopCloser(strings.NewReader(p.stream)), nil
}

// A pull prints one line per layer and status, however many progress
// messages the engine sends while a layer downloads or extracts.
func TestPullPrintsOneLinePerEvent(t *testing.T) {
	stream := `{"status":"Pulling from library/postgres","id":"17"}
{"status":"Pulling fs layer","id":"a1"}
{"status":"Pulling fs layer","id":"b2"}
{"status":"Downloading","progressDetail":{"current":1,"total":100},"progress":"[>   ]","id":"a1"}
{"status":"Downloading","progressDetail":{"current":50,"total":100},"progress":"[==> ]","id":"a1"}
{"status":"Downloading","progressDetail":{"current":99,"total":100},"progress":"[===>]","id":"a1"}
{"status":"Download complete","id":"a1"}
{"status":"Extracting","progressDetail":{"current":1,"total":100},"id":"a1"}
{"status":"Extracting","progressDetail":{"current":100,"total":100},"id":"a1"}
{"status":"Pull complete","id":"a1"}
{"status":"Already exists","id":"b2"}
{"status":"Digest: sha256:0123"}
{"status":"Status: Downloaded newer image for postgres:17"}
`
	var out strings.Builder
	if err := pgimage.Pull(context.Background(), puller{stream: stream}, "postgres:17", &out); err != nil {
		t.Fatal(err)
	}
	want := `17: Pulling from library/postgres
a1: Pulling fs layer
b2: Pulling fs layer
a1: Downloading
a1: Download complete
a1: Extracting
a1: Pull complete
b2: Already exists
Digest: sha256:0123
Status: Downloaded newer image for postgres:17
`
	if out.String() != want {
		t.Errorf("progress:\n%s\nwant:\n%s", out.String(), want)
	}
}

// A pull that the engine refuses, at once or in its stream, fails with the
// engine's words.
func TestPullFailsWithTheEnginesReason(t *testing.T) {
	for name, p := range map[string]puller{
		"refused at once": {err: errors.New("Error response from daemon: manifest unknown")},
		"refused midway":  {stream: `{"status":"Pulling fs layer","id":"a1"}` + "\n" + `{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}` + "\n"},
	} {
		t.Run(name, func(t *testing.T) {
			err := pgimage.Pull(context.Background(), p, "postgres:17", io.Discard)
			if err == nil || !strings.Contains(err.Error(), "pull postgres:17") || !strings.Contains(err.Error(), "manifest unknown") {
				t.Errorf("Pull = %v, want an error naming the image and the engine's reason", err)
			}
		})
	}
}
