// Package scaffold is `slipway init`: it adds Slipway to a team's
// repository. It writes slipway.yaml from what it finds (the Dockerfile's
// EXPOSE and HEALTHCHECK, the test command of package.json, pytest, Go or
// unittest) or from flags, validated as Slipway reads it; the magefile that
// imports Slipway's targets and the zero-install mage.go; the go.mod
// changes; and the GitHub Actions workflows (preview, fork preview, preview
// database, release, cleanup), rendered from embedded templates with every
// action pinned by commit.
//
// It never overwrites a file without Force and edits go.mod only by adding
// what is missing, so a second run writes nothing and says so.
package scaffold

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/slipway/slipway/internal/manifest"
)

// Options are init's flags. The zero value finds everything.
type Options struct {
	App    string   // -app: the app's name; "" for the directory's
	Port   int      // -port: the container port; 0 for the Dockerfile's EXPOSE
	Health string   // -health: the health check's path; "" for the HEALTHCHECK's, else Slipway's default
	Test   []string // -test: the test command; nil to find it
	Force  bool     // -force: write every file afresh (go.mod is only ever added to)

	Version string // the Slipway version go.mod requires
	Replace string // a local checkout of Slipway that go.mod's replace directive names
	Module  string // a new go.mod's module path; "" for the git remote's, else the directory's name
}

// Status is what init did with one file.
type Status string

const (
	Wrote     Status = "wrote"     // created, or rewritten with Force
	Updated   Status = "updated"   // go.mod or go.sum, added to
	Kept      Status = "kept"      // there, different from what init writes, left as it is
	Unchanged Status = "unchanged" // there, as init writes it
)

// File is one file init wrote or kept, relative to the repository.
type File struct {
	Path   string
	Status Status
	Note   string // what was found or done, or why the file needs a look
}

// Result is what Init did.
type Result struct {
	Dir   string
	Files []File
	Spec  *Spec // what slipway.yaml was written from; nil when it was kept
}

// Written lists the files init wrote or added to.
func (r Result) Written() []string {
	var w []string
	for _, f := range r.Files {
		if f.Status == Wrote || f.Status == Updated {
			w = append(w, f.Path)
		}
	}
	return w
}

// Init adds Slipway to the repository in dir. Every file is worked out
// and validated before the first is written. When go.mod changed or there
// is no go.sum, `go get` of Slipway's packages then completes both.
func Init(ctx context.Context, dir string, o Options) (Result, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Result{}, fmt.Errorf("init: %w", err)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return Result{}, fmt.Errorf("init: %s is not a directory", dir)
	}
	r := Result{Dir: dir}
	files, err := r.plan(o)
	if err != nil {
		return r, err
	}
	mod, modExisted, modNote, err := goMod(dir, o)
	if err != nil {
		return r, fmt.Errorf("init: %w", err)
	}
	for _, f := range files {
		if err := r.put(f.path, f.data, o.Force, f.note); err != nil {
			return r, err
		}
		if f.path == "mage.go" { // go.mod after the Go files, as a person reads them
			if err := r.putGoMod(mod, modExisted, modNote); err != nil {
				return r, err
			}
		}
	}
	_, sumErr := os.Stat(filepath.Join(dir, "go.sum"))
	if mod == nil && sumErr == nil {
		return r, nil
	}
	before, _ := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err := goGet(ctx, dir); err != nil {
		return r, fmt.Errorf("init: %w", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "go.sum")); !bytes.Equal(before, after) {
		f := File{Path: "go.sum", Status: Updated, Note: "go get " + strings.Join(goPackages, " ")}
		if before == nil {
			f.Status = Wrote
		}
		i := slices.IndexFunc(r.Files, func(f File) bool { return f.Path == "go.mod" })
		r.Files = slices.Insert(r.Files, i+1, f)
	}
	return r, nil
}

// putGoMod writes go.mod's new content, nil when nothing changed.
func (r *Result) putGoMod(data []byte, existed bool, note string) error {
	f := File{Path: "go.mod", Status: Unchanged, Note: "requires " + SlipwayModule}
	if data != nil {
		f.Status, f.Note = Updated, note
		if !existed {
			f.Status = Wrote
		}
		if err := writeFile(filepath.Join(r.Dir, "go.mod"), data); err != nil {
			return err
		}
	}
	r.Files = append(r.Files, f)
	return nil
}

// planned is a file's path and content, worked out before anything is written.
type planned struct {
	path string
	data []byte
	note string
}

// plan works out slipway.yaml (kept when it is there, unless Force), the
// magefile, mage.go and the workflows. A magefile of the repository's own
// that already imports Slipway's targets stands for the magefile.
func (r *Result) plan(o Options) ([]planned, error) {
	var files []planned
	app, database := "", false
	if m, err := existingManifest(r.Dir); err != nil {
		return nil, err
	} else if m != nil && !o.Force {
		app, database = m.App, m.Database != nil
		files = append(files, planned{manifest.FileName, nil, "as it is (-force writes it afresh from what init finds)"})
	} else {
		data, s, err := Manifest(r.Dir, o)
		if err != nil {
			return nil, err
		}
		r.Spec, app = &s, s.App
		files = append(files, planned{manifest.FileName, data, s.summary()})
	}
	if app == "" {
		app = appName(filepath.Base(r.Dir))
	}
	for _, f := range []struct{ path, tmpl string }{{"magefiles/magefile.go", "magefile.go.tmpl"}, {"mage.go", "mage.go.tmpl"}} {
		data, err := render(f.tmpl, nil)
		if err != nil {
			return nil, err
		}
		if other := importingMagefile(r.Dir); f.tmpl == "magefile.go.tmpl" && other != "" {
			files = append(files, planned{other, nil, "imports Slipway's targets"})
			continue
		}
		files = append(files, planned{f.path, data, ""})
	}
	flows, err := Workflows(app, database)
	if err != nil {
		return nil, err
	}
	for _, p := range sortedKeys(flows) {
		files = append(files, planned{p, flows[p], ""})
	}
	return files, nil
}

// importingMagefile is a file in magefiles/ other than magefile.go that
// already imports Slipway's targets, "" when there is none.
func importingMagefile(dir string) string {
	m, _ := filepath.Glob(filepath.Join(dir, "magefiles", "*.go"))
	for _, p := range m {
		data, err := os.ReadFile(p)
		if err == nil && filepath.Base(p) != "magefile.go" && bytes.Contains(data, []byte(`"`+SlipwayModule+`/targets"`)) {
			return "magefiles/" + filepath.Base(p)
		}
	}
	return ""
}

// existingManifest loads the repository's slipway.yaml, nil when there is
// none.
func existingManifest(dir string) (*manifest.Manifest, error) {
	path := filepath.Join(dir, manifest.FileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	m, err := manifest.Load(path)
	if err != nil {
		return nil, fmt.Errorf("init: %w\nfix %s, or run init with -force to write it afresh from what init finds", err, manifest.FileName)
	}
	return m, nil
}

// put writes data to rel unless the file is there: then it is kept, or,
// with force, rewritten when it differs.
func (r *Result) put(rel string, data []byte, force bool, note string) error {
	path := filepath.Join(r.Dir, filepath.FromSlash(rel))
	old, err := os.ReadFile(path)
	switch {
	case data == nil: // there already, and not to be rewritten
		r.Files = append(r.Files, File{Path: rel, Status: Kept, Note: note})
		return nil
	case err == nil && bytes.Equal(old, data):
		r.Files = append(r.Files, File{Path: rel, Status: Unchanged})
		return nil
	case err == nil && !force:
		r.Files = append(r.Files, File{Path: rel, Status: Kept, Note: keptNote(rel, old)})
		return nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("init: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if err := writeFile(path, data); err != nil {
		return err
	}
	r.Files = append(r.Files, File{Path: rel, Status: Wrote, Note: note})
	return nil
}

// keptNote says what a kept file lacks that Slipway needs, if anything.
func keptNote(rel string, old []byte) string {
	switch {
	case rel == "magefiles/magefile.go" && !bytes.Contains(old, []byte(`"`+SlipwayModule+`/targets"`)):
		return "it does not import Slipway's targets: add `//mage:import` `_ \"" + SlipwayModule + "/targets\"` to its imports"
	case rel == "mage.go" && !bytes.Contains(old, []byte("magerun.Main()")) && !bytes.Contains(old, []byte("mage.Main()")):
		return "it is not mage's bootstrap: `go run mage.go` needs `os.Exit(magerun.Main())` (github.com/slipway/slipway/magerun)"
	}
	return "differs from what init writes (-force writes it afresh)"
}

// writeFile writes data to path through a temporary file renamed over it,
// so that no reader sees half a file.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o644)); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
