package local_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/itest"
	"github.com/slipway/slipway/internal/testenv"
)

const commitBreak = "eeeeeee5555555555555555555555555555555ee"

// itester runs the sample app's own integration tests, as a release does.
func itester(t *testing.T) itest.Tester {
	return itest.Tester{ModuleDir: testenv.ModuleDir(t), Log: testenv.Log(t)}
}

// Issue 16, item 3, as the user met it: an app released with the database
// off, then released with it on. The live stack has no DATABASE_URL and
// never used a database, so no migration can break it: the release goes
// through (its own tests judge it, with a database), production is
// migrated expand-only, and one line says why the live stack was not
// checked.
func TestTurningTheDatabaseOnForAnAppWithALiveRelease(t *testing.T) {
	e := newDBEnv(t)
	e.flow.Database = false
	v1, err := e.releaseAt(images.appA, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.flow.Database, e.flow.Tester = true, itester(t)
	v2, err := e.releaseAt(images.appB, 1)
	if err != nil {
		t.Fatalf("the first release with the database on, over %s made without it: %v", v1.Stack, err)
	}
	if want := "release: live stack " + v1.Stack + " runs without DATABASE_URL: this release's migrations cannot break it, so it is not checked on the new schema"; !strings.Contains(e.out.String(), want) {
		t.Fatalf("the release does not say why %s was not checked (%q):\n%s", v1.Stack, want, e.out.String())
	}
	if got := e.schema(e.app); got != 2 {
		t.Fatalf("production schema %d, want 2 (expand only)", got)
	}
	e.assertOnlyLive(v2.Stack, 2)
	if c, code := e.commitAt(e.app + ".localhost"); c != commitB || code != http.StatusOK {
		t.Fatalf("production answers %d %q, want %s", code, c, commitB)
	}
}

// Issue 16, item 3: nothing changes production's schema before every
// check that can refuse the release has passed. A migration marked expand
// that breaks the live release (it renames the visit counter's table) is
// found by the live release's own tests on a copy of production's schema,
// migrated as production would be: the release is refused, production's
// schema is the old one, the live stack still serves, and the check stack
// is gone.
func TestAMigrationThatBreaksTheLiveStackIsRefusedBeforeProductionChanges(t *testing.T) {
	e := newDBEnv(t)
	ctx := context.Background()
	v1, err := e.releaseAt(images.appA, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing older is kept: cleanup runs the contract 00003.
	if _, err := e.flow.Cleanup(ctx, deploy.CleanupPolicy{KeepReleases: 2, Parallel: 1}, nil, false); err != nil {
		t.Fatal(err)
	}
	if got := e.schema(e.app); got != 3 {
		t.Fatalf("production schema %d after cleanup, want 3", got)
	}
	broken := prImage(t, e, commitBreak, "-- slipway:expand\n-- +goose Up\nALTER TABLE counters RENAME TO counters_v2;\n\n-- +goose Down\nALTER TABLE counters_v2 RENAME TO counters;\n")
	e.flow.Tester = itester(t)
	_, err = e.releaseAt(broken, 1)
	if !errors.Is(err, deploy.ErrLiveBreaks) || !strings.Contains(err.Error(), v1.Stack) {
		t.Fatalf("release whose migration breaks the live stack %s: %v", v1.Stack, err)
	}
	if got := e.schema(e.app); got != 3 {
		t.Fatalf("production schema %d after the refused release, want it unchanged at 3", got)
	}
	if n, err := e.query(e.app, "SELECT count(*)::int FROM counters"); err != nil || n != 1 {
		t.Fatalf("production's counters table after the refused release: %d rows, %v", n, err)
	}
	e.assertOnlyLive(v1.Stack, 1)
	if c, code := e.commitAt(e.app + ".localhost"); c != commitA || code != http.StatusOK {
		t.Fatalf("production answers %d %q after the refused release, want %s", code, c, commitA)
	}
	stacks, err := e.provider.Stacks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stacks {
		if s.Name != v1.Stack {
			t.Fatalf("stack %s left after the refused release (role %s), want only %s", s.Name, s.Role, v1.Stack)
		}
	}
}

// planned reads a plan's migration rows: the migrations, in order, and
// the schema they end at.
func planned(rows []string) ([]string, string) {
	var names []string
	end := ""
	for _, r := range rows {
		name, _, _ := strings.Cut(strings.TrimPrefix(r, "migration "), " ")
		names = append(names, name)
		if m := regexp.MustCompile(`-> (\d+)`).FindStringSubmatch(r); m != nil {
			end = m[1]
		}
	}
	return names, end
}

// Issue 16, item 5: held migrations are named as what they are, and
// cleanup's dry-run plan is exactly what cleanup then runs. The live image
// holds the contract 00003 and an expand 00004 behind it: migrate applies
// both, so the plan lists both, with the schema the run ends at.
func TestCleanupRunsExactlyTheMigrationsItsDryRunPlanned(t *testing.T) {
	e := newDBEnv(t)
	ctx := context.Background()
	vOld, err := e.releaseAt(e.olderImage(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.releaseAt(images.appA, 1); err != nil {
		t.Fatal(err)
	}
	added := prImage(t, e, commitExpand, "-- slipway:expand\n-- +goose Up\nALTER TABLE notes ADD COLUMN author text;\n\n-- +goose Down\nALTER TABLE notes DROP COLUMN author;\n")
	vAdded, err := e.releaseAt(added, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := "held until no kept release needs the old schema: 00003_drop_visits.sql (contract), 00004_pr.sql (expand, behind the contract)"; !strings.Contains(e.out.String(), want) {
		t.Fatalf("the release does not name the held migrations as what they are (%q):\n%s", want, e.out.String())
	}

	plan, err := e.flow.Cleanup(ctx, deploy.CleanupPolicy{KeepReleases: 2, Parallel: 1}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	held := []string{
		"migration 00003_drop_visits.sql keep: contract, held at schema 2: kept for rollback: " + vOld.Stack + " (schema 2)",
		"migration 00004_pr.sql keep: expand, behind the contract, held at schema 2: kept for rollback: " + vOld.Stack + " (schema 2)",
	}
	if got := planRows(plan, deploy.RoleDatabase); !slices.Equal(got, held) {
		t.Fatalf("plan while %s is kept:\n%s\nwant\n%s", vOld.Stack, strings.Join(got, "\n"), strings.Join(held, "\n"))
	}

	pol := deploy.CleanupPolicy{KeepReleases: 1, Parallel: 1}
	dry, err := e.flow.Cleanup(ctx, pol, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	rows := planRows(dry, deploy.RoleDatabase)
	names, end := planned(rows)
	if !slices.Equal(names, []string{"00003_drop_visits.sql", "00004_pr.sql"}) || end != "4" || !strings.Contains(rows[0], "production schema 2 -> 4") {
		t.Fatalf("dry-run plan:\n%s\nwant 00003 (contract) and 00004 (expand) run, production 2 -> 4", strings.Join(rows, "\n"))
	}
	if got := e.schema(e.app); got != 2 {
		t.Fatalf("the dry run changed production's schema to %d", got)
	}
	e.out.Reset()
	plan, err = e.flow.Cleanup(ctx, pol, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := planRows(plan, deploy.RoleDatabase); !slices.Equal(got, rows) {
		t.Fatalf("cleanup planned\n%s\nits dry run\n%s", strings.Join(got, "\n"), strings.Join(rows, "\n"))
	}
	want := "cleanup: ran migration 00003_drop_visits.sql (contract), 00004_pr.sql (expand, behind the contract) with the live stack " + vAdded.Stack + "'s image: production schema 2 -> " + end
	if !strings.Contains(e.out.String(), want) {
		t.Fatalf("cleanup does not say it ran what its dry run planned (%q):\n%s", want, e.out.String())
	}
	if got := e.schema(e.app); got != 4 {
		t.Fatalf("production schema %d after cleanup, want 4", got)
	}
}
