package build_test

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/testenv"
)

const (
	expand   = "-- slipway:expand\n-- +goose Up\nSELECT 1;\n"
	contract = "-- slipway:contract\n-- +goose Up\nSELECT 1;\n"
)

func labels(head, minV, contracts string) map[string]string {
	return map[string]string{deploy.LabelSchemaHead: head, deploy.LabelSchemaMin: minV, deploy.LabelSchemaContracts: contracts}
}

func TestSchemaLabelsComeFromTheMigrationFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  map[string]string
		err   string
	}{
		{
			name:  "expand migrations only: the build runs on its head alone",
			files: fstest.MapFS{"00001_a.sql": {Data: []byte(expand)}, "00002_b.sql": {Data: []byte(expand)}},
			want:  labels("2", "2", ""),
		},
		{
			name:  "a contract at the end: the build also runs on the schema before it",
			files: fstest.MapFS{"00001_a.sql": {Data: []byte(expand)}, "00002_b.sql": {Data: []byte(expand)}, "00003_drop.sql": {Data: []byte(contract)}},
			want:  labels("3", "2", "3:00003_drop.sql"),
		},
		{
			name: "a contract in the middle: an expand after it sets the minimum",
			files: fstest.MapFS{"00001_a.sql": {Data: []byte(expand)}, "00002_drop.sql": {Data: []byte(contract)},
				"00003_c.sql": {Data: []byte(expand)}, "00004_rename.sql": {Data: []byte(contract)}},
			want: labels("4", "3", "2:00002_drop.sql,4:00004_rename.sql"),
		},
		{
			name:  "versions sort as numbers, other files are no migrations",
			files: fstest.MapFS{"10_b.sql": {Data: []byte(expand)}, "9_a.sql": {Data: []byte(contract)}, "README.md": {Data: []byte("notes")}},
			want:  labels("10", "10", "9:9_a.sql"),
		},
		{
			name:  "no migrations",
			files: fstest.MapFS{".keep": {}},
			want:  labels("0", "0", ""),
		},
		{
			name:  "a malformed marker",
			files: fstest.MapFS{"00001_a.sql": {Data: []byte(expand)}, "00002_b.sql": {Data: []byte("-- slipway:expnad\nSELECT 1;\n")}},
			err:   `db/migrations/00002_b.sql:1: unknown marker "-- slipway:expnad": write -- slipway:expand`,
		},
		{
			name:  "a marker without its colon",
			files: fstest.MapFS{"00001_a.sql": {Data: []byte("--slipway expand\n")}},
			err:   `db/migrations/00001_a.sql:1: unknown marker "--slipway expand"`,
		},
		{
			name:  "no marker on the first line",
			files: fstest.MapFS{"00001_a.sql": {Data: []byte("-- +goose Up\n-- slipway:expand\n")}},
			err:   "db/migrations/00001_a.sql:1: no kind marker on the first line",
		},
		{
			name:  "a file goose cannot number",
			files: fstest.MapFS{"add_author.sql": {Data: []byte(expand)}},
			err:   "db/migrations/add_author.sql: a migration is named <version>_<name>.sql",
		},
		{
			name:  "two files of one version",
			files: fstest.MapFS{"00001_a.sql": {Data: []byte(expand)}, "1_b.sql": {Data: []byte(expand)}},
			err:   "db/migrations/1_b.sql: version 1 is also db/migrations/00001_a.sql",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := build.SchemaLabels(tc.files, "db/migrations")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// The sample app's migrations give the labels its images carried when
// they were read from its code's constants.
func TestSampleAppSchemaLabels(t *testing.T) {
	dir := filepath.Join(testenv.ModuleDir(t), "sample-app", "store", "migrations")
	got, err := build.SchemaLabels(os.DirFS(dir), "sample-app/store/migrations")
	if want := labels("3", "2", "3:00003_drop_visits.sql"); err != nil || !maps.Equal(got, want) {
		t.Fatalf("got %v, %v; want %v", got, err, want)
	}
}

// An app with a Dockerfile and database.migrations gets its schema labels
// from the migration files of the commit built: an untracked file does not
// count (here one that would fail the build), and a committed file with a
// malformed marker fails the build naming the file and line.
func TestADockerfileAppIsLabelledFromItsTrackedMigrations(t *testing.T) {
	cli := testenv.Docker(t)
	ctx := t.Context()
	t.Setenv("SLIPWAY_COMMIT", "")
	t.Setenv("SLIPWAY_VERSION", "")
	r := newRepo(t)
	r.write("slipway.yaml", "app: shop\ndatabase:\n  migrations: db/migrations\n  migrate: [\"/bin/migrate\"]\n")
	r.write("Dockerfile", "FROM scratch\nCOPY db /db\n")
	r.write("db/migrations/00001_notes.sql", expand)
	r.write("db/migrations/00002_drop_visits.sql", contract)
	r.git("add", ".")
	r.git("commit", "-q", "-m", "app with migrations")
	r.write("db/migrations/00003_wip.sql", "-- slipway:wip\n")
	const repo = "slipway-test/migrationsapp"
	s7 := r.git("rev-parse", "--short=7", "HEAD")
	t.Cleanup(func() { removeTags(cli, repo, s7, "pr-1") })
	b := &build.Builder{Engine: cli, ModuleDir: r.dir, AppImage: repo, Manifest: loadManifest(t, r), Log: testenv.Log(t)}
	img, err := b.Build(ctx, "pr-1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := image.Labels(ctx, cli, img.Ref)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range labels("2", "1", "2:00002_drop_visits.sql") {
		if got[k] != want {
			t.Errorf("label %s = %q, want %q", k, got[k], want)
		}
	}

	r.git("add", "db/migrations/00003_wip.sql")
	r.git("commit", "-q", "-m", "a malformed marker")
	s7 = r.git("rev-parse", "--short=7", "HEAD")
	t.Cleanup(func() { removeTags(cli, repo, s7, "pr-2") })
	_, err = b.Build(ctx, "pr-2")
	if want := `db/migrations/00003_wip.sql:1: unknown marker "-- slipway:wip"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("build with a malformed marker: %v, want an error naming %q", err, want)
	}
}
