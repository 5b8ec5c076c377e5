package scaffold

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/modfile"

	"github.com/slipway/slipway/internal/manifest"
	"github.com/slipway/slipway/internal/testenv"
)

// exampleRepo copies examples/python-shop, without its slipway.yaml, into
// a new git repository named python-shop in a temporary directory. The
// go commands then run offline: go.sum is seeded with Slipway's own, so
// `go get` of Slipway's packages (replaced by this checkout) needs only
// the module cache.
func exampleRepo(t *testing.T) (dir, root string) {
	t.Helper()
	root = testenv.ModuleDir(t)
	dir = filepath.Join(t.TempDir(), "python-shop")
	testenv.CopyDir(t, filepath.Join(root, "examples", "python-shop"), dir)
	if err := os.Remove(filepath.Join(dir, manifest.FileName)); err != nil {
		t.Fatal(err)
	}
	gitInit(t, dir)
	testenv.SeedGoSum(t, root, dir)
	return dir, root
}

func gitInit(t *testing.T, dir string) {
	t.Helper()
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
}

// snapshot reads every file under dir but .git, by relative path.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			files[filepath.ToSlash(rel)] = string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func initRepo(t *testing.T, dir string, o Options) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := Init(ctx, dir, o)
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	return r
}

func statusOf(r Result) map[string]Status {
	s := map[string]Status{}
	for _, f := range r.Files {
		s[f.Path] = f.Status
	}
	return s
}

var scaffolded = []string{
	"slipway.yaml", "magefiles/magefile.go", "mage.go", "go.mod",
	".github/workflows/slipway-cleanup.yml", ".github/workflows/slipway-preview-fork.yml",
	".github/workflows/slipway-preview.yml", ".github/workflows/slipway-release.yml",
}

func TestInitWritesEveryFileOnceAndASecondRunWritesNothing(t *testing.T) {
	dir, root := exampleRepo(t)
	first := initRepo(t, dir, Options{Replace: root})
	if got := first.Written(); !slices.Equal(got, scaffolded) {
		t.Errorf("first run wrote %q; want %q", got, scaffolded)
	}
	var out bytes.Buffer
	if err := first.Print(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range append(slices.Clone(scaffolded), "port 5000, from EXPOSE in Dockerfile", "go run mage.go preview:deploy -pr=1", "go run mage.go demo") {
		if !strings.Contains(out.String(), want) {
			t.Errorf("first run's output lacks %q:\n%s", want, out.String())
		}
	}
	before := snapshot(t, dir)

	second := initRepo(t, dir, Options{Replace: root})
	if got := second.Written(); len(got) != 0 {
		t.Errorf("second run wrote %q; want nothing", got)
	}
	out.Reset()
	if err := second.Print(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "nothing to write") {
		t.Errorf("second run's output does not say there was nothing to write:\n%s", out.String())
	}
	for _, p := range scaffolded {
		if !strings.Contains(out.String(), p) {
			t.Errorf("second run's output does not name %s, which it kept:\n%s", p, out.String())
		}
	}
	if after := snapshot(t, dir); !mapsEqual(before, after) {
		t.Errorf("second run changed files: before %d, after %d", len(before), len(after))
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			return false
		}
	}
	return true
}

func TestInitKeepsChangedFilesAndForceRewritesThem(t *testing.T) {
	dir, root := exampleRepo(t)
	initRepo(t, dir, Options{Replace: root})
	edited := map[string]string{
		"slipway.yaml":                          "",
		"magefiles/magefile.go":                 "",
		".github/workflows/slipway-preview.yml": "",
	}
	for p := range edited {
		path := filepath.Join(dir, p)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		edited[p] = string(data) + "# the team's own edit\n"
		if strings.HasSuffix(p, ".go") {
			edited[p] = string(data) + "// the team's own edit\n"
		}
		if err := os.WriteFile(path, []byte(edited[p]), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	kept := initRepo(t, dir, Options{Replace: root})
	st := statusOf(kept)
	for p, content := range edited {
		if st[p] != Kept {
			t.Errorf("without -force, %s is %s; want kept", p, st[p])
		}
		if data, _ := os.ReadFile(filepath.Join(dir, p)); string(data) != content {
			t.Errorf("without -force, %s was changed", p)
		}
	}

	forced := initRepo(t, dir, Options{Replace: root, Force: true})
	st = statusOf(forced)
	for p := range edited {
		if st[p] != Wrote {
			t.Errorf("with -force, %s is %s; want wrote", p, st[p])
		}
	}
	if st["mage.go"] != Unchanged || st["go.mod"] != Unchanged {
		t.Errorf("with -force, mage.go is %s and go.mod %s; want both unchanged (as init writes them, and go.mod is only added to)", st["mage.go"], st["go.mod"])
	}
	if again := initRepo(t, dir, Options{Replace: root, Force: true}); len(again.Written()) != 0 {
		t.Errorf("-force over files as init writes them wrote %q; want nothing", again.Written())
	}
}

func TestInitWritesNothingWhenItCannotWorkOutSlipwayYAML(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shop")
	writeTree(t, dir, map[string]string{"Dockerfile": "FROM debian\n"})
	before := snapshot(t, dir)
	_, err := Init(context.Background(), dir, Options{Replace: "/nowhere"})
	if err == nil || !strings.Contains(err.Error(), "pass -port=N") || !strings.Contains(err.Error(), "pass -test=") {
		t.Fatalf("Init = %v; want an error naming -port and -test", err)
	}
	if after := snapshot(t, dir); !mapsEqual(before, after) {
		t.Errorf("Init wrote files before failing: %d files, was %d", len(after), len(before))
	}
}

func TestInitWithoutAVersionSaysHowToGiveOne(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shop")
	writeTree(t, dir, map[string]string{"Dockerfile": dockerfile5000, "tests/test_a.py": ""})
	_, err := Init(context.Background(), dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "-version=VERSION") || !strings.Contains(err.Error(), "cmd/slipway@VERSION") {
		t.Fatalf("Init = %v; want an error saying how to name Slipway's version", err)
	}
	if _, err := os.Stat(filepath.Join(dir, manifest.FileName)); err == nil {
		t.Error("Init wrote slipway.yaml before failing on go.mod")
	}
}

func TestInitAddsSlipwayToAnExistingGoModAndKeepsTheRest(t *testing.T) {
	dir, root := exampleRepo(t)
	gomod := "module example.com/acme/shop\n\ngo 1.26.8\n\nrequire gopkg.in/yaml.v3 v3.0.1 // the team's own\n"
	writeTree(t, dir, map[string]string{"go.mod": gomod})
	r := initRepo(t, dir, Options{Replace: root})
	if st := statusOf(r)["go.mod"]; st != Updated {
		t.Errorf("go.mod is %s; want updated", st)
	}
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatalf("the go.mod init wrote does not parse: %v\n%s", err, data)
	}
	if f.Module.Mod.Path != "example.com/acme/shop" {
		t.Errorf("module %s; want the team's, example.com/acme/shop", f.Module.Mod.Path)
	}
	var slipway, yaml bool
	for _, req := range f.Require {
		slipway = slipway || req.Mod.Path == SlipwayModule && !req.Indirect
		yaml = yaml || req.Mod.Path == "gopkg.in/yaml.v3"
	}
	if !slipway || !yaml || len(f.Replace) != 1 || f.Replace[0].New.Path != root {
		t.Errorf("go.mod:\n%s\nwant the team's require kept, Slipway required directly and replaced by %s", data, root)
	}
}

func TestANewGoModIsNamedAfterTheGitRemote(t *testing.T) {
	for _, remote := range []string{"git@github.com:acme/shop.git", "https://github.com/acme/shop.git", "ssh://git@github.com/acme/shop", "https://token@github.com/acme/shop/"} {
		t.Run(remote, func(t *testing.T) {
			dir := t.TempDir()
			gitInit(t, dir)
			if out, err := exec.Command("git", "-C", dir, "remote", "add", "origin", remote).CombinedOutput(); err != nil {
				t.Fatalf("git remote add: %v\n%s", err, out)
			}
			if got, from, err := modulePath(dir, ""); err != nil || got != "github.com/acme/shop" {
				t.Errorf("modulePath = %q (from %s), %v; want github.com/acme/shop", got, from, err)
			}
		})
	}
	t.Run("no remote: the directory's name", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "python-shop")
		writeTree(t, dir, map[string]string{"x": ""})
		if got, _, err := modulePath(dir, ""); err != nil || got != "python-shop" {
			t.Errorf("modulePath = %q, %v; want python-shop", got, err)
		}
	})
}

func TestInitWithADatabaseWritesThePreviewDatabaseWorkflow(t *testing.T) {
	dir, root := exampleRepo(t)
	yaml, _, err := Manifest(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string]string{manifest.FileName: string(yaml) + "database: {}\n"})
	r := initRepo(t, dir, Options{Replace: root})
	if st := statusOf(r); st[manifest.FileName] != Kept || st[".github/workflows/slipway-preview-database.yml"] != Wrote {
		t.Errorf("files %v; want slipway.yaml kept and slipway-preview-database.yml written", st)
	}
}

func TestAMagefileOfTheTeamsThatImportsTheTargetsStandsForInits(t *testing.T) {
	dir, root := exampleRepo(t)
	own := "//go:build mage\n\npackage main\n\nimport (\n\t//mage:import\n\t_ \"github.com/slipway/slipway/targets\"\n)\n\n// Lint lints.\nfunc Lint() error { return nil }\n"
	writeTree(t, dir, map[string]string{"magefiles/targets.go": own})
	r := initRepo(t, dir, Options{Replace: root})
	st := statusOf(r)
	if _, wrote := st["magefiles/magefile.go"]; wrote || st["magefiles/targets.go"] != Kept {
		t.Errorf("files %v; want magefiles/targets.go kept and no magefiles/magefile.go", st)
	}
}

// The scaffolded repository compiles: the magefile with the mage tag,
// mage.go (ignored but for `go run`), and mage lists Slipway's targets.
func TestTheScaffoldedRepositoryBuildsAndListsSlipwaysTargets(t *testing.T) {
	dir, root := exampleRepo(t)
	initRepo(t, dir, Options{Replace: root})
	goBin := testenv.Binary(t, "go", "install Go: https://go.dev/dl/")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, args := range [][]string{{"vet", "-tags", "mage", "./magefiles"}, {"vet", "mage.go"}, {"run", "mage.go", "-l"}} {
		cmd := exec.CommandContext(ctx, goBin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[0] == "run" {
			for _, target := range []string{"preview:deploy", "preview:destroy", "release", "deploy", "rollback", "cleanup", "local:down", "demo", "test:integration"} {
				if !strings.Contains(string(out), "  "+target+" ") {
					t.Errorf("go run mage.go -l does not list %s:\n%s", target, out)
				}
			}
		}
	}
}
