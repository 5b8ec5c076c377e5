package local_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/manifest"
	"github.com/slipway/slipway/internal/testenv"
)

// The bug of issue 17: a pull request added migration 00004 and left the
// sample app's SchemaHead constant at 3; the image said head 3, so its
// preview's database, cloned at 3, was "already at head 3" and 00004 never
// ran, with every check green. The image's labels now come from the
// migration files git tracks in the build's tree: the preview migrates to
// 4. An untracked migration (here one that would fail the build) is not
// in the image and does not count.
func TestSchemaLabelsFromTheFilesMigrateAPreviewToANewMigrationWithNoConstantBumped(t *testing.T) {
	e := newDBEnv(t)
	ctx := context.Background()
	if _, err := e.releaseAt(images.appA, 0); err != nil { // golden at 3
		t.Fatal(err)
	}
	checkout, _ := gitCheckout(t)
	migrations := filepath.Join(checkout, "sample-app/store/migrations")
	add := func(name, sql string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(migrations, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	add("00004_note_author.sql", "-- slipway:expand\n-- +goose Up\nALTER TABLE notes ADD COLUMN author text;\n\n-- +goose Down\nALTER TABLE notes DROP COLUMN author;\n")
	git(t, checkout, "add", "sample-app/store/migrations/00004_note_author.sql")
	git(t, checkout, "commit", "--quiet", "-m", "pr: add 00004, no constant bumped")
	add("00005_wip.sql", "-- slipway:wip\n")
	if src, err := os.ReadFile(filepath.Join(checkout, "sample-app/store/migrate.go")); err != nil || !strings.Contains(string(src), "SchemaHead = 3") {
		t.Fatalf("the checkout's store must still say SchemaHead = 3 (%v)", err)
	}

	b := &build.Builder{Engine: e.cli, ModuleDir: checkout, AppImage: "slipway-test/app-pr", Rebuild: true,
		Rev: &build.Revision{Commit: git(t, checkout, "rev-parse", "HEAD"), Version: "test-00004"}, Log: testenv.Log(t)}
	img, err := b.Build(ctx, "test-00004")
	if err != nil {
		t.Fatalf("build the pull request's image: %v", err)
	}
	labels, err := image.Labels(ctx, e.cli, img.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if labels[deploy.LabelSchemaHead] != "4" || labels[deploy.LabelSchemaMin] != "4" || labels[deploy.LabelSchemaContracts] != "3:00003_drop_visits.sql" {
		t.Fatalf("labels head %q, min %q, contracts %q; want 4, 4, 3:00003_drop_visits.sql", labels[deploy.LabelSchemaHead], labels[deploy.LabelSchemaMin], labels[deploy.LabelSchemaContracts])
	}

	e.builder.set(img)
	res, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 1})
	if err != nil {
		t.Fatalf("deploy pr-1: %v", err)
	}
	if res.Database == nil || res.Database.From != 3 || res.Database.Head != 4 || e.schema(e.app+"_pr_1") != 4 {
		t.Fatalf("preview database %+v, schema %d; want migrated 3 -> 4", res.Database, e.schema(e.app+"_pr_1"))
	}
	if n, err := e.query(e.app+"_pr_1", "SELECT count(*)::int FROM information_schema.columns WHERE table_name = 'notes' AND column_name = 'author'"); err != nil || n != 1 {
		t.Fatalf("notes.author columns %d, %v; want 00004 applied", n, err)
	}
	if out := e.out.String(); strings.Contains(out, "already at head 3") {
		t.Fatalf("the preview skipped its migration:\n%s", out)
	}
}

// slipway.yaml's database.migrate and database.seed run as one-off
// containers of the app's image, the whole command (the image's
// entrypoint replaced), told what to do by the migrate contract's
// variables alone: SLIPWAY_MIGRATE_TO=1 stops at 1, SLIPWAY_MIGRATE=expand
// holds the contract migration 3, SLIPWAY_MIGRATE=all applies it; the
// seed command fills the golden copy.
func TestMigrateCommandFromTheManifestFollowsTheMigrateContract(t *testing.T) {
	e := newDBEnv(t)
	ctx := context.Background()
	m := manifest.Default()
	m.Database = &manifest.Database{Migrate: []string{"/app", "migrate"}, Seed: []string{"/app", "seed"}}
	e.flow.Manifest = m
	dbs := e.flow.Databases()
	prod, err := dbs.Production(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := dbs.MigrateTo(ctx, images.appA.Ref, prod, 1)
	if err != nil || res.From != 0 || res.To != 1 || e.schema(e.app) != 1 {
		t.Fatalf("SLIPWAY_MIGRATE_TO=1: %+v, %v; want 0 -> 1", res, err)
	}
	res, err = dbs.Migrate(ctx, images.appA.Ref, prod, true)
	if err != nil || res.From != 1 || res.To != 2 || len(res.Held) != 1 || res.Held[0].Name != "00003_drop_visits.sql" || res.Held[0].Kind != deploy.KindContract {
		t.Fatalf("SLIPWAY_MIGRATE=expand: %+v, %v; want 1 -> 2, 00003_drop_visits.sql held", res, err)
	}
	res, err = dbs.RefreshGolden(ctx, images.appA.Ref, "r1")
	if err != nil || res.From != 0 || res.To != 3 {
		t.Fatalf("golden, SLIPWAY_MIGRATE=all: %+v, %v; want 0 -> 3", res, err)
	}
	if n, err := e.query(e.golden(), "SELECT count(*)::int FROM notes"); err != nil || n == 0 {
		t.Fatalf("the golden copy has %d notes (%v): the seed command did not run", n, err)
	}
}
