package local_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	dockerevents "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/local"
)

// migrateRuns counts the migrate containers of the app the engine started
// since since (its events, read back until now).
func (e *dbEnv) migrateRuns(since time.Time) int {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, errs := e.cli.Events(ctx, dockerevents.ListOptions{
		Since: since.Add(-time.Second).Format(time.RFC3339Nano), Until: time.Now().Add(time.Second).Format(time.RFC3339Nano),
		Filters: filters.NewArgs(filters.Arg("type", "container"), filters.Arg("event", "start"),
			filters.Arg("label", local.LabelApp+"="+e.app), filters.Arg("label", local.LabelRole+"=migrate")),
	})
	n := 0
	for {
		select {
		case m := <-msgs:
			if time.Unix(0, m.TimeNano).After(since) {
				n++
			}
		case err := <-errs:
			if err != nil && !errors.Is(err, io.EOF) {
				e.t.Fatalf("read the engine's events: %v", err)
			}
			return n
		}
	}
}

// migrate runs the flow's Migrate on pr's database with img and says how many migrate
// containers it started.
func (e *dbEnv) migrate(pr int, img deploy.Image) (deploy.MigrateResult, int, error) {
	e.t.Helper()
	ctx := context.Background()
	db, err := e.flow.Databases().EnsurePreview(ctx, pr)
	if err != nil {
		e.t.Fatal(err)
	}
	start := time.Now()
	m, err := e.flow.Databases().Migrate(ctx, img.Ref, db.URL, false)
	return m, e.migrateRuns(start), err
}

// A preview database cloned at the image's head needs no migrate
// container: the image's label dev.slipway.schema.head and the clone's
// goose table (versions 1..N, each applied once) agree, and the run says
// so. A PR that adds a migration runs its container and ends at its head;
// a database whose versions do not add up (a gap, a version rolled back)
// leaves the decision to the container.
func TestMigrateRunsNoContainerWhenTheCloneIsAtTheImagesHead(t *testing.T) {
	e := newDBEnv(t)
	if _, err := e.releaseAt(images.appA, 0); err != nil { // golden at 3
		t.Fatal(err)
	}
	m, runs, err := e.migrate(1, images.appA)
	if err != nil || m.From != 3 || m.To != 3 || runs != 0 {
		t.Fatalf("migrate a clone at head 3 with an image of head 3: %+v, %d containers, %v; want 3 -> 3 and no container", m, runs, err)
	}
	if want := "database " + e.app + "_pr_1: already at head 3, no migration to run"; !strings.Contains(e.out.String(), want) {
		t.Fatalf("the run does not say %q:\n%s", want, e.out.String())
	}

	added := prImage(t, e, commitExpand, "-- slipway:expand\n-- +goose Up\nALTER TABLE notes ADD COLUMN author text;\n\n-- +goose Down\nALTER TABLE notes DROP COLUMN author;\n")
	m, runs, err = e.migrate(2, added)
	if err != nil || m.From != 3 || m.To != 4 || runs != 1 || e.schema(e.app+"_pr_2") != 4 {
		t.Fatalf("migrate a clone at 3 with a PR adding 00004: %+v, %d containers, %v; want 3 -> 4 by one container", m, runs, err)
	}
	m, runs, err = e.migrate(2, added)
	if err != nil || m.From != 4 || m.To != 4 || runs != 0 {
		t.Fatalf("migrate it again: %+v, %d containers, %v; want 4 -> 4 and no container", m, runs, err)
	}

	// Versions 1 and 3 applied, 2 missing: at "3" by its newest version
	// only, so the container decides.
	e.exec(e.app+"_pr_1", "DELETE FROM goose_db_version WHERE version_id = 2")
	if _, runs, err = e.migrate(1, images.appA); runs != 1 {
		t.Fatalf("migrate a database with a gap in its versions: %d containers (%v), want the container to decide", runs, err)
	}
	// A version rolled back (goose's row is_applied = false) is no head.
	e.exec(e.app+"_pr_2", "INSERT INTO goose_db_version (version_id, is_applied) VALUES (4, false), (4, true)")
	if _, runs, err = e.migrate(2, added); runs != 1 {
		t.Fatalf("migrate a database with a rolled back version: %d containers (%v), want the container to decide", runs, err)
	}
}
