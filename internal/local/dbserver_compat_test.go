package local_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/itest"
	"github.com/slipway/slipway/internal/testenv"
)

const (
	commitExpand   = "ccccccc3333333333333333333333333333333cc"
	commitContract = "ddddddd4444444444444444444444444444444dd"
)

// prImage builds the sample app as a pull request would change it: one
// more migration (version 4, of the given kind), and replacements in the
// store's source. It is built from a copy of the sample app and the
// module's go.mod, so the checkout is never touched.
func prImage(t testing.TB, e *dbEnv, commit, migration string, replace ...string) deploy.Image {
	t.Helper()
	dir := moduleCopy(t, "sample-app")
	if err := os.WriteFile(filepath.Join(dir, "sample-app/store/migrations/00004_pr.sql"), []byte(migration), 0o644); err != nil {
		t.Fatal(err)
	}
	replace = append(replace, "SchemaHead = 3", "SchemaHead = 4", "ARG SCHEMA_HEAD=3", "ARG SCHEMA_HEAD=4")
	if strings.Contains(migration, "-- slipway:contract") {
		replace = append(replace, "ARG SCHEMA_CONTRACTS=3:00003_drop_visits.sql", "ARG SCHEMA_CONTRACTS=3:00003_drop_visits.sql,4:00004_pr.sql")
	}
	// The image's labels say what its code does, as the store's test
	// keeps them in the checkout.
	for _, f := range []string{"sample-app/store/store.go", "sample-app/store/migrate.go", "sample-app/Dockerfile"} {
		p := filepath.Join(dir, f)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.NewReplacer(replace...).Replace(string(b))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := &build.Builder{Engine: e.cli, ModuleDir: dir, AppImage: "slipway-test/app-pr", Rebuild: true,
		Rev: &build.Revision{Commit: commit, Version: "test-pr"}, Log: testenv.Log(t)}
	img, err := b.Build(context.Background(), "test-"+commit[:7])
	if err != nil {
		t.Fatalf("build the pull request's image: %v", err)
	}
	return img
}

// events keeps what the flow reports.
type events struct {
	mu  sync.Mutex
	all []deploy.Event
}

func (r *events) Report(_ context.Context, e deploy.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, e)
	return nil
}

func (r *events) last() deploy.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.all[len(r.all)-1]
}

// moduleCopy copies dirs of the module and its go.mod and go.sum into a
// temporary directory, so a test can change them without touching the
// checkout.
func moduleCopy(t testing.TB, dirs ...string) string {
	t.Helper()
	mod, dir := testenv.ModuleDir(t), t.TempDir()
	for _, d := range dirs {
		if err := os.CopyFS(filepath.Join(dir, d), os.DirFS(filepath.Join(mod, d))); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(mod, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// gitCheckout is a git repository holding what the sample app and its
// integration tests need from the module, committed as the release; it
// returns the repository and the release's commit.
func gitCheckout(t *testing.T) (string, string) {
	t.Helper()
	dir := moduleCopy(t, "sample-app", "internal/localhost")
	git(t, dir, "init", "--quiet")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "--quiet", "-m", "release")
	return dir, git(t, dir, "rev-parse", "HEAD")
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// In a pull request with the database on, the live release's image runs its
// own integration tests (the real ones, at the release's commit, database
// tests expected) on the PR's migrated preview database as
// <app>-pr-N-compat, which is gone afterwards. The PR's checkout relaxed
// the release's database test (it skips): the check must not be judged by
// that. An expand migration (a column added) keeps the release passing,
// its database test run, not skipped; a contract migration (notes renamed
// to memos, the PR's code moved along) breaks it: the check fails naming
// the release's test, and the preview itself still deploys and passes its
// own tests.
func TestSchemaCompatRunsTheLiveReleaseOnThePRsMigratedDatabase(t *testing.T) {
	e := newDBEnv(t)
	ctx := context.Background()
	checkout, commit := gitCheckout(t)
	b := &build.Builder{Engine: e.cli, ModuleDir: checkout, AppImage: "slipway-test/app-rel", Rebuild: true,
		Rev: &build.Revision{Commit: commit, Version: "test-release"}, Log: testenv.Log(t)}
	release, err := b.Build(ctx, "test-release")
	if err != nil {
		t.Fatalf("build the release's image: %v", err)
	}
	relaxed := filepath.Join(checkout, "sample-app/integration/database_test.go")
	src, err := os.ReadFile(relaxed)
	if err != nil {
		t.Fatal(err)
	}
	const keeps = "func TestDatabaseKeepsThisEnvironmentsData(t *testing.T) {\n"
	if !strings.Contains(string(src), keeps) {
		t.Fatalf("%s has no %q to relax", relaxed, keeps)
	}
	if err := os.WriteFile(relaxed, []byte(strings.Replace(string(src), keeps, keeps+"\tt.Skip(\"relaxed by the pull request\")\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, checkout, "commit", "--quiet", "-am", "pr: relax the database test")

	e.flow.Tester = itest.Tester{ModuleDir: checkout, Log: testenv.Log(t)}
	rec := &events{}
	e.flow.Reporter = rec
	e.builder.set(release)
	rel, err := e.flow.Release(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Image.Commit != commit {
		t.Fatalf("release %+v, want commit %s", rel, commit)
	}

	expand := prImage(t, e, commitExpand, "-- slipway:expand\n-- +goose Up\nALTER TABLE notes ADD COLUMN author text;\n\n-- +goose Down\nALTER TABLE notes DROP COLUMN author;\n")
	e.builder.set(expand)
	res, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 1})
	if err != nil {
		t.Fatalf("deploy pr-1 (expand): %v", err)
	}
	c := rec.last().Compat
	if c == nil || c.Status != deploy.CompatPassed || c.Release != rel.Stack || c.Schema != 4 || c.Tests == nil || c.Tests.Passed == 0 || strings.Contains(c.Tests.Summary, "skipped") {
		t.Fatalf("schema-compat of an expand migration: %+v (tests %+v), want release %s passing on schema 4, database tests run", c, c.Tests, rel.Stack)
	}
	if res.Compat != c {
		t.Fatal("the result and the report disagree on the schema-compat check")
	}
	e.assertNoCompatStack(1)

	contract := prImage(t, e, commitContract, "-- slipway:contract\n-- +goose Up\nALTER TABLE notes RENAME TO memos;\n\n-- +goose Down\nALTER TABLE memos RENAME TO notes;\n",
		"INTO notes", "INTO memos", "FROM notes", "FROM memos")
	e.builder.set(contract)
	res, err = e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 2})
	if !errors.Is(err, deploy.ErrSchemaCompat) || !res.Tests.OK {
		t.Fatalf("deploy pr-2 (contract): %v, tests %+v; the preview itself must deploy and pass, and the command fail saying the check failed", err, res.Tests)
	}
	c = rec.last().Compat
	if c == nil || c.Status != deploy.CompatFailed || c.Release != rel.Stack || c.Schema != 4 || !slices.Contains(c.Failing(), "TestDatabaseKeepsThisEnvironmentsData") {
		t.Fatalf("schema-compat of a contract migration: %+v (failing %q), want release %s failing TestDatabaseKeepsThisEnvironmentsData on schema 4", c, c.Failing(), rel.Stack)
	}
	e.assertNoCompatStack(2)
	if n := strings.Count(git(t, checkout, "worktree", "list", "--porcelain"), "worktree "); n != 1 {
		t.Fatalf("%d worktrees in the checkout after the checks, want the release's removed", n)
	}
	if !strings.Contains(e.out.String(), "schema-compat: release "+rel.Stack+" fails on schema 4") {
		t.Fatalf("the run does not say the release fails on the PR's schema:\n%s", e.out.String())
	}
	// The release in production is untouched: its database is not the
	// preview's, and it still answers.
	if got := e.schema(e.app); got != 2 {
		t.Fatalf("production schema %d after the previews, want 2", got)
	}
}

// assertNoCompatStack checks that no container of pr's compat stack is
// left and that the target lists no such stack.
func (e *dbEnv) assertNoCompatStack(pr int) {
	e.t.Helper()
	ctx := context.Background()
	name, err := deploy.CompatStack(e.app, pr)
	if err != nil {
		e.t.Fatal(err)
	}
	opts := containerList(e.app, name)
	opts.All = true // a stopped container is left behind too
	cs, err := e.cli.ContainerList(ctx, opts)
	if err != nil || len(cs) != 0 {
		e.t.Fatalf("containers of %s left: %d (%v)", name, len(cs), err)
	}
	stacks, err := e.provider.Stacks(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, s := range stacks {
		if s.Name == name {
			e.t.Fatalf("the target still lists %s", name)
		}
	}
}
