package local_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/local"
	"github.com/slipway/slipway/internal/testenv"
)

// The database on the local target, end to end against real Postgres: the
// shared stack starts <app>-db; previews get their own databases cloned
// from golden and migrated with the PR's image (a write in one is not seen
// in the other); the URL is never printed; a re-deploy keeps the data;
// destroy drops database and role; cleanup drops a database whose preview
// is gone and lists it; a failing migration stops the deploy with its
// error; local:down says the data went.
func TestPreviewDatabasesAreClonedIsolatedAndDropped(t *testing.T) {
	e := newDBEnv(t)
	ctx := context.Background()
	rel, err := e.flow.Release(ctx, nil) // builds the golden database
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range []int{1, 2} {
		res, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: pr})
		if err != nil {
			t.Fatalf("deploy pr-%d: %v", pr, err)
		}
		if db := res.Database; db == nil || !db.Cloned || db.Head != 3 || db.Name != fmt.Sprintf("%s_pr_%d", e.app, pr) || db.Released != rel.Stack {
			t.Fatalf("pr-%d database %+v, want %s_pr_%d cloned from release %s's golden copy and at schema 3", pr, db, e.app, pr, rel.Stack)
		}
	}
	// The PR's own migrations create tables: its role may create in public.
	if n, err := e.query(e.app+"_pr_2", "SELECT has_schema_privilege($1, 'public', 'CREATE')::int", e.app+"_pr_2"); err != nil || n != 1 {
		t.Fatalf("pr-2's role may not create in its database's public schema (%d, %v): a PR adding a migration would fail", n, err)
	}
	if code, body := e.note(e.host(1), http.MethodPost, "only in pr-1"); code != http.StatusCreated {
		t.Fatalf("POST a note to pr-1: %d %s", code, body)
	}
	if _, body := e.note(e.host(1), http.MethodGet, ""); !strings.Contains(body, "only in pr-1") {
		t.Fatalf("pr-1 notes %s, want the note written there", body)
	}
	if code, body := e.note(e.host(2), http.MethodGet, ""); code != http.StatusOK || strings.Contains(body, "only in pr-1") {
		t.Fatalf("pr-2 notes %d %s: a write in pr-1 must not be seen in pr-2", code, body)
	}

	before := e.containers()
	res, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 1})
	if err != nil || res.Database == nil || res.Database.Cloned || res.Database.Released != rel.Stack {
		t.Fatalf("re-deploy pr-1: %+v, %v; want its database kept, still saying it came from %s", res.Database, err, rel.Stack)
	}
	if after := e.containers(); after != before {
		t.Fatalf("a re-deploy of the same commit changed containers: %s -> %s", before, after)
	}
	if _, body := e.note(e.host(1), http.MethodGet, ""); !strings.Contains(body, "only in pr-1") {
		t.Fatalf("pr-1 lost its note on a re-deploy: %s", body)
	}

	u, err := url.Parse(e.databaseURL(e.app + "-pr-1"))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	if len(pw) < 16 || strings.Contains(e.out.String(), pw) {
		t.Fatalf("the preview's database password (%d chars) must exist and never be printed", len(pw))
	}
	rows, err := e.flow.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if strings.Contains(strings.Join([]string{r.Stack, r.Image, r.URL, r.Source}, " "), pw) {
			t.Fatalf("status shows the password: %+v", r)
		}
		if r.Schema != "3" {
			t.Fatalf("status row %s shows schema %q, want the image's head 3", r.Stack, r.Schema)
		}
	}

	if err := e.flow.DestroyPreview(ctx, deploy.PreviewRequest{PR: 1}); err != nil {
		t.Fatal(err)
	}
	if dbs, roles := e.exists(e.app + "_pr_1"); dbs != 0 || roles != 0 {
		t.Fatalf("after destroy: %d databases and %d roles named %s_pr_1, want none", dbs, roles, e.app)
	}

	// pr-2's stack goes without its database (a destroy job that died):
	// cleanup drops the database and lists it.
	if err := e.provider.Delete(ctx, e.app+"-pr-2"); err != nil {
		t.Fatal(err)
	}
	plan, err := e.flow.Cleanup(ctx, deploy.CleanupPolicy{KeepReleases: 2, Parallel: 1}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	var dropped []string
	for _, it := range plan {
		if it.Action == deploy.ActionDrop {
			dropped = append(dropped, it.Stack+": "+it.Reason)
		}
	}
	if len(dropped) != 1 || dropped[0] != "database of #2: preview #2 is gone" {
		t.Fatalf("cleanup dropped %q, want only the database of #2", dropped)
	}
	if dbs, roles := e.exists(e.app + "_pr_2"); dbs != 0 || roles != 0 {
		t.Fatalf("after cleanup: %d databases and %d roles of pr-2 left", dbs, roles)
	}

	// A migration that fails (golden says schema 2 while visits is gone
	// already, so 00003's DROP TABLE visits fails) stops the deploy with
	// the migration's own error, and no stack is started.
	e.exec(e.golden(), "DELETE FROM goose_db_version WHERE version_id = 3")
	_, err = e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 3})
	var merr *deploy.MigrationError
	if !errors.As(err, &merr) || !strings.Contains(err.Error(), `table "visits" does not exist`) || !strings.Contains(err.Error(), "the preview was not deployed") {
		t.Fatalf("deploy over a failing migration: %v; want the migration's error", err)
	}
	stacks, err := e.provider.Stacks(ctx)
	if err != nil || len(stacks) != 1 || stacks[0].Name != rel.Stack {
		t.Fatalf("stacks after a failed migration: %+v (%v), want only the release %s", stacks, err, rel.Stack)
	}

	var down testenv.SyncBuffer
	if err := local.Down(ctx, e.cli, e.app, false, &down); err != nil {
		t.Fatal(err)
	}
	t.Log(down.String())
	if !strings.Contains(down.String(), "removing container "+e.app+"-db: the database server") || !strings.Contains(down.String(), "volume "+e.app+"-db-data: the database server's data") {
		t.Fatalf("local:down output does not say the database server and its data went:\n%s", down.String())
	}
}
