package local_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/jackc/pgx/v5"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/local"
	"github.com/slipway/slipway/internal/pgimage/pgtest"
	"github.com/slipway/slipway/internal/testenv"
)

// dbEnv is env with the database on, and everything printed kept.
type dbEnv struct {
	*env
	out   *testenv.SyncBuffer
	admin local.DatabaseServer
}

func newDBEnv(t testing.TB) *dbEnv {
	t.Helper()
	cli := testenv.Docker(t)
	buildImages(t, cli)
	pgImage := pgtest.Image(t, cli)
	var rnd [3]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	app := "ld" + hex.EncodeToString(rnd[:])
	out := &testenv.SyncBuffer{}
	log := io.MultiWriter(out, testenv.Log(t))
	e := &env{t: t, cli: cli, app: app, port: testenv.FreePort(t)}
	e.provider = local.New(cli, local.Options{
		App: app, RouterImage: images.router, RouterPort: e.port, AdminPort: testenv.FreePort(t),
		HealthTimeout: 20 * time.Second, DrainTimeout: 5 * time.Second, Log: log, DatabaseImage: pgImage,
	})
	e.builder = &switchBuilder{img: images.appA}
	e.flow = &deploy.Flow{App: app, Target: e.provider, Builder: e.builder, Tester: &httpTester{}, Routing: routing{app, e.port}, Log: log, TargetName: "local", Database: true}
	t.Cleanup(func() {
		if err := local.Down(context.Background(), cli, app, false, testenv.Log(t)); err != nil {
			t.Errorf("local down: %v", err)
		}
	})
	if err := e.provider.EnsureShared(context.Background()); err != nil {
		t.Fatalf("ensure shared: %v", err)
	}
	s, err := e.provider.EnsureDatabaseServer(context.Background(), pgImage)
	if err != nil {
		t.Fatal(err)
	}
	return &dbEnv{env: e, out: out, admin: s}
}

// connect opens a superuser session on database db.
func (e *dbEnv) connect(db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(e.admin.Admin.Reveal())
	if err != nil {
		return nil, err
	}
	cfg.Database = db
	return pgx.ConnectConfig(context.Background(), cfg)
}

// query runs one query returning a number as the superuser on database db.
func (e *dbEnv) query(db, sql string, args ...any) (int, error) {
	conn, err := e.connect(db)
	if err != nil {
		return 0, err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var n int
	err = conn.QueryRow(context.Background(), sql, args...).Scan(&n)
	return n, err
}

// golden names the golden database previews clone from now: the newest
// published one (its comment names its release).
func (e *dbEnv) golden() string {
	e.t.Helper()
	conn, err := e.connect("postgres")
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var name string
	err = conn.QueryRow(context.Background(), `SELECT datname::text FROM pg_database
WHERE starts_with(datname, $1) AND starts_with(shobj_description(oid, 'pg_database'), 'slipway release ')
ORDER BY length(datname) DESC, datname DESC LIMIT 1`, e.app+"_golden_").Scan(&name)
	if err != nil {
		e.t.Fatalf("find the published golden database of %s: %v", e.app, err)
	}
	return name
}

// exec runs a statement as the superuser on database db.
func (e *dbEnv) exec(db, sql string) {
	e.t.Helper()
	conn, err := e.connect(db)
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		e.t.Fatalf("%s on %s: %v", sql, db, err)
	}
}

// exists counts databases and roles named name.
func (e *dbEnv) exists(name string) (dbs, roles int) {
	e.t.Helper()
	dbs, err := e.query("postgres", "SELECT count(*)::int FROM pg_database WHERE datname = $1", name)
	if err != nil {
		e.t.Fatal(err)
	}
	roles, err = e.query("postgres", "SELECT count(*)::int FROM pg_roles WHERE rolname = $1", name)
	if err != nil {
		e.t.Fatal(err)
	}
	return dbs, roles
}

// note posts a note to host, or reads host's notes.
func (e *dbEnv) note(host, method, body string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d/notes", e.port), strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Host = host
	resp, err := httpc.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s/notes: %v", method, host, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// databaseURL reads DATABASE_URL from the newest container of stack.
func (e *dbEnv) databaseURL(stack string) string {
	e.t.Helper()
	cs, err := e.cli.ContainerList(context.Background(), containerList(e.app, stack))
	if err != nil || len(cs) == 0 {
		e.t.Fatalf("containers of %s: %v (%d)", stack, err, len(cs))
	}
	c, err := e.cli.ContainerInspect(context.Background(), cs[0].ID)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, kv := range c.Config.Env {
		if v, ok := strings.CutPrefix(kv, deploy.DatabaseURLEnv+"="); ok {
			return v
		}
	}
	e.t.Fatalf("%s has no %s", stack, deploy.DatabaseURLEnv)
	return ""
}

func containerList(app, stack string) container.ListOptions {
	return container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", local.LabelApp+"="+app), filters.Arg("label", local.LabelStack+"="+stack))}
}
