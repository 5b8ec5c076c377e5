package deploy

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// databaseRows are a plan's database rows as PrintPlan shows them.
func databaseRows(plan []PlanItem) []string {
	var out []string
	for _, it := range plan {
		if it.Role == RoleDatabase {
			out = append(out, it.Stack+" "+it.Action+": "+it.Reason)
		}
	}
	return out
}

// Issue 16, item 5b: cleanup's plan is exactly what its migrate run does.
// The live image holds the contract 00003 and an expand 00004 behind it:
// migrate applies both, so the plan lists both, as what they are, with the
// schema the run ends at, and the run then says the same. While a kept
// release needs schema 2, both are held, named as what they are.
func TestCleanupPlansExactlyTheMigrationsItRuns(t *testing.T) {
	p := newDBFake()
	f, _, log := dbFlow(p)
	ctx := context.Background()
	old, err := releaseCommit(t, f, p, "aaaaaaa1111", fakeMigrations[:2])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := releaseCommit(t, f, p, "bbbbbbb2222", withNote); err != nil {
		t.Fatal(err)
	}
	plan, err := f.Cleanup(ctx, CleanupPolicy{KeepReleases: 2, Parallel: 1}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	held := []string{
		"migration 00003_drop_visits.sql keep: contract, held at schema 2: kept for rollback: " + old.Stack + " (schema 2)",
		"migration 00004_x.sql keep: expand, behind the contract, held at schema 2: kept for rollback: " + old.Stack + " (schema 2)",
	}
	if got := databaseRows(plan); !slices.Equal(got, held) {
		t.Fatalf("plan with %s kept:\n%s\nwant\n%s", old.Stack, strings.Join(got, "\n"), strings.Join(held, "\n"))
	}

	// A third release makes old older than the rollback target; keeping
	// one release deletes it, and nothing holds the migrations.
	v3, err := releaseCommit(t, f, p, "ccccccc3333", withNote)
	if err != nil {
		t.Fatal(err)
	}
	pol := CleanupPolicy{KeepReleases: 1, Parallel: 1}
	dry, err := f.Cleanup(ctx, pol, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	run := []string{
		"migration 00003_drop_visits.sql migrate: contract: the live stack's migrate runs it, production schema 2 -> 4",
		"migration 00004_x.sql migrate: expand, behind the contract: the live stack's migrate runs it, production schema 2 -> 4",
	}
	if got := databaseRows(dry); !slices.Equal(got, run) {
		t.Fatalf("dry-run plan:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(run, "\n"))
	}
	if got := p.server.dbs["shop"].schema; got != 2 {
		t.Fatalf("a dry run migrated production to %d", got)
	}
	plan, err = f.Cleanup(ctx, pol, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(databaseRows(plan), run) {
		t.Fatalf("cleanup's plan %q differs from its dry run's %q", databaseRows(plan), run)
	}
	ran := regexp.MustCompile(`cleanup: ran migration (.*) with the live stack (\S+)'s image: production schema (\d+ -> \d+)`).FindStringSubmatch(log.String())
	if ran == nil || ran[1] != "00003_drop_visits.sql (contract), 00004_x.sql (expand, behind the contract)" || ran[3] != "2 -> 4" {
		t.Fatalf("cleanup's log does not run what its plan said (%q):\n%s", ran, log)
	}
	if got := p.server.dbs["shop"].schema; got != 4 || ran[2] != v3.Stack {
		t.Fatalf("production schema %d after cleanup (want 4), run with %s's image (want the live %s's)", got, ran[2], v3.Stack)
	}
}
