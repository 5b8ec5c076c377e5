package local_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/slipway/slipway/internal/deploy"
)

// olderImage is appA relabelled as a build from before the contract
// migration 00003 (schema head 2, no contract), the way Slipway reads any
// image: by its labels.
func (e *dbEnv) olderImage() deploy.Image {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.cli.ContainerCreate(ctx, &container.Config{Image: images.appA.Ref}, nil, nil, nil, "")
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = e.cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true}) }()
	img, err := e.cli.ContainerCommit(ctx, c.ID, container.CommitOptions{Changes: []string{
		`LABEL dev.slipway.schema.head="2" dev.slipway.schema.contracts=""`,
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	return deploy.Image{Ref: img.ID, Digest: img.ID, Commit: images.appA.Commit, Version: "test-old"}
}

func planRows(plan []deploy.PlanItem, role string) []string {
	var out []string
	for _, it := range plan {
		if it.Role == role {
			out = append(out, it.Stack+" "+it.Action+": "+it.Reason)
		}
	}
	return out
}

// Expand/contract, enforced: a contract migration is held while a kept
// release was built before it, runs from cleanup once that release is
// gone, and rollback refuses a stack whose schema was contracted away,
// naming the migration.
func TestContractMigrationWaitsForOldReleasesAndRollbackRefusesAContractedSchema(t *testing.T) {
	e := newDBEnv(t)
	ctx := context.Background()
	old := e.olderImage()
	vOld, err := e.releaseAt(old, 0)
	if err != nil {
		t.Fatal(err)
	}
	vNew, err := e.releaseAt(images.appA, 1)
	if err != nil {
		t.Fatal(err)
	}
	stacks, err := e.provider.Stacks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stacks {
		want := map[string]int64{vOld.Stack: 2, vNew.Stack: 3}[s.Name]
		if s.SchemaHead != want {
			t.Fatalf("%s schema head %d, want %d from its image's labels", s.Name, s.SchemaHead, want)
		}
	}

	plan, err := e.flow.Cleanup(ctx, deploy.CleanupPolicy{KeepReleases: 2, Parallel: 1}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	rows := planRows(plan, deploy.RoleDatabase)
	if len(rows) != 1 || rows[0] != "migration 00003_drop_visits.sql keep: contract, held at schema 2: kept for rollback: "+vOld.Stack+" (schema 2)" {
		t.Fatalf("cleanup with %s kept: database rows %q, want 00003 held naming it", vOld.Stack, rows)
	}
	if got := e.schema(e.app); got != 2 {
		t.Fatalf("production schema %d while %s is kept, want 2", got, vOld.Stack)
	}

	// A third release makes vOld older than the rollback target (which
	// cleanup never deletes); keeping one release deletes vOld.
	e.builder.set(images.appA)
	e.flow.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if _, err := e.flow.Release(ctx, map[string]string{"APP_MESSAGE": "third"}); err != nil {
		t.Fatal(err)
	}
	plan, err = e.flow.Cleanup(ctx, deploy.CleanupPolicy{KeepReleases: 1, Parallel: 1}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	rows = planRows(plan, deploy.RoleDatabase)
	if len(rows) != 1 || !strings.HasPrefix(rows[0], "migration 00003_drop_visits.sql migrate:") {
		t.Fatalf("cleanup that deletes %s: database rows %q, want 00003 run", vOld.Stack, rows)
	}
	if got := e.schema(e.app); got != 3 {
		t.Fatalf("production schema %d after the contract ran, want 3", got)
	}
	if c, code := e.commitAt(e.app + ".localhost"); c != commitA || code != 200 {
		t.Fatalf("production answers %d %q after the contract migration", code, c)
	}

	// An old build released again, then the new one: rolling back to the
	// old build would meet a schema it was not built for.
	vOld2, err := e.releaseAt(old, 3)
	if err != nil {
		t.Fatal(err)
	}
	vNew2, err := e.releaseAt(images.appA, 4)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.flow.Rollback(ctx)
	if !errors.Is(err, deploy.ErrContractedAway) || !strings.Contains(err.Error(), "00003_drop_visits.sql") || !strings.Contains(err.Error(), vOld2.Stack) {
		t.Fatalf("rollback to %s: %v; want it refused naming 00003_drop_visits.sql", vOld2.Stack, err)
	}
	e.assertOnlyLiveOf(vNew2.Stack)
}

func (e *dbEnv) assertOnlyLiveOf(stack string) {
	e.t.Helper()
	routes, err := e.provider.Routes(context.Background())
	if err != nil || len(routes.Live()) != 1 || routes.Live()[0] != stack {
		e.t.Fatalf("live %v (%v), want only %s", routes.Live(), err, stack)
	}
}
