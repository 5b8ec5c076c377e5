package local_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/itest"
	"github.com/slipway/slipway/internal/testenv"
)

func (e *dbEnv) schema(db string) int {
	e.t.Helper()
	n, err := e.query(db, "SELECT max(version_id)::int FROM goose_db_version WHERE is_applied")
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *dbEnv) releaseAt(img deploy.Image, hours int) (deploy.ReleaseResult, error) {
	e.builder.set(img)
	e.flow.Now = func() time.Time { return time.Now().Add(time.Duration(hours) * time.Hour) }
	return e.flow.Release(context.Background(), nil)
}

// A release with the database on rebuilds golden, applies only expand
// migrations to production before the new stack gets traffic, and stops
// before the shift, production untouched, when the migration fails.
func TestReleaseMigratesProductionBeforeTrafficAndStopsWhenThatFails(t *testing.T) {
	e := newDBEnv(t)
	v1, err := e.releaseAt(images.appA, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.schema(e.app); got != 2 {
		t.Fatalf("production schema after the first release = %d, want 2 (expand only: 00003 is a contract migration)", got)
	}
	if n, err := e.query(e.app, "SELECT count(*)::int FROM information_schema.tables WHERE table_name = 'visits'"); err != nil || n != 1 {
		t.Fatalf("the contract migration ran on production: visits tables %d (%v)", n, err)
	}
	if got := e.schema(e.golden()); got != 3 {
		t.Fatalf("golden schema = %d, want the image's head 3", got)
	}
	if want := "held until no kept release needs the old schema: 00003_drop_visits.sql (contract)"; !strings.Contains(e.out.String(), want) {
		t.Fatalf("the release does not say it held the contract migration (%q):\n%s", want, e.out.String())
	}

	// A migration that fails: production says schema 1 while counters
	// exists, so 00002's CREATE TABLE counters fails.
	e.exec(e.app, "DELETE FROM goose_db_version WHERE version_id = 2")
	_, err = e.releaseAt(images.appB, 1)
	var merr *deploy.MigrationError
	if !errors.As(err, &merr) || !strings.Contains(err.Error(), `relation "counters" already exists`) || !strings.Contains(err.Error(), "production traffic unchanged") {
		t.Fatalf("release over a failing migration: %v", err)
	}
	e.assertOnlyLive(v1.Stack, 1)
	if n, err := e.query(e.app, "SELECT count(*)::int FROM counters"); err != nil || n != 1 {
		t.Fatalf("production's data changed by the failed migration: counters rows %d (%v)", n, err)
	}
	e.exec(e.app, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (2, true)")

	v2, err := e.releaseAt(images.appB, 3)
	if err != nil {
		t.Fatal(err)
	}
	e.assertOnlyLive(v2.Stack, 2)
	if c, code := e.commitAt(e.app + ".localhost"); c != commitB || code != http.StatusOK {
		t.Fatalf("production answers %d %q after the release, want %s", code, c, commitB)
	}
	if u := e.databaseURL(v2.Stack); u != e.databaseURL(v1.Stack) {
		t.Fatal("blue and green stacks must share the production database URL")
	}
	// The sample app's own integration tests, database tests included,
	// pass against the kept stack v1 on the migrated production database.
	base, host := routing{e.app, e.port}.Dial(e.app + ".localhost")
	tr, err := itest.Tester{ModuleDir: testenv.ModuleDir(t), Log: testenv.Log(t)}.Test(context.Background(),
		deploy.TestTarget{BaseURL: base, Host: host, Commit: commitA, Stack: v1.Stack, StackHeader: v1.Stack, Database: true})
	if err != nil || !tr.OK || strings.Contains(tr.Summary, "skipped") {
		t.Fatalf("integration tests of the kept stack %s on the migrated database: %+v, %v", v1.Stack, tr, err)
	}
}

// assertOnlyLive checks that stack has all production traffic and that
// there are n production stacks (a stopped release starts none).
func (e *dbEnv) assertOnlyLive(stack string, n int) {
	e.t.Helper()
	ctx := context.Background()
	routes, err := e.provider.Routes(ctx)
	if err != nil || len(routes.Live()) != 1 || routes.Live()[0] != stack {
		e.t.Fatalf("live %v (%v), want only %s", routes.Live(), err, stack)
	}
	stacks, err := e.provider.Stacks(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	var prod []string
	for _, s := range stacks {
		if s.Role == deploy.RoleProduction && s.State != deploy.StateFailed {
			prod = append(prod, s.Name)
		}
	}
	if len(prod) != n {
		e.t.Fatalf("production stacks %v, want %d: a stopped release starts none", prod, n)
	}
}
