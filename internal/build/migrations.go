package build

import (
	"bufio"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/slipway/slipway/internal/deploy"
)

// migration is one SQL file of database.migrations.
type migration struct {
	version int64
	name    string
	kind    string // deploy.KindExpand or deploy.KindContract
}

// markerPrefix starts the first line of every migration file.
const markerPrefix = "-- slipway:"

// SchemaLabels reads the migrations directory dir (shown as show in
// errors) and returns the image's schema labels (deploy.LabelSchemaHead,
// LabelSchemaMin, LabelSchemaContracts), so they say what the image's
// migrations are, whatever constants the app's code holds.
//
// Every <version>_<name>.sql file (goose's naming: the version is the
// number before the first "_") is a migration; its first line says its
// kind: "-- slipway:expand" or "-- slipway:contract". Other files are not
// migrations. The labels are:
//   - head: the newest version (0 with no migration);
//   - min: the oldest schema this build runs on, the version before the
//     contract migrations at the end (head when the newest is an expand
//     one). A contract migration only removes what older code reads, so
//     this build runs before it ran; an expand one adds what this build
//     may read, so it runs only after;
//   - contracts: every contract migration, "<version>:<file>" joined by ",".
func SchemaLabels(fsys fs.FS, show string) (map[string]string, error) {
	ms, err := readMigrations(fsys, show)
	if err != nil {
		return nil, err
	}
	var head, minV int64
	if len(ms) > 0 {
		head = ms[len(ms)-1].version
	}
	var contracts []string
	for _, m := range ms {
		if m.kind == deploy.KindContract {
			contracts = append(contracts, strconv.FormatInt(m.version, 10)+":"+m.name)
		}
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].kind != deploy.KindContract {
			minV = ms[i].version
			break
		}
	}
	return map[string]string{
		deploy.LabelSchemaHead:      strconv.FormatInt(head, 10),
		deploy.LabelSchemaMin:       strconv.FormatInt(minV, 10),
		deploy.LabelSchemaContracts: strings.Join(contracts, ","),
	}, nil
}

// readMigrations lists the migrations of fsys in version order.
func readMigrations(fsys fs.FS, show string) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("read database.migrations %s: %w", show, err)
	}
	seen := map[int64]string{}
	var ms []migration
	for _, name := range names {
		file := path.Join(show, name)
		v, ok := versionOf(name)
		if !ok {
			return nil, fmt.Errorf("%s: a migration is named <version>_<name>.sql (00004_add_author.sql)", file)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("%s: version %d is also %s", file, v, path.Join(show, other))
		}
		seen[v] = name
		kind, err := kindOf(fsys, name, file)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, kind: kind})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// versionOf is the version of a goose file name: its digits before "_".
func versionOf(name string) (int64, bool) {
	num, _, ok := strings.Cut(name, "_")
	if !ok || num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.ParseInt(num, 10, 64)
	return v, err == nil && v > 0
}

// kindOf reads the marker on the first line of the migration name.
func kindOf(fsys fs.FS, name, file string) (string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return "", fmt.Errorf("read migration %s: %w", file, err)
	}
	defer func() { _ = f.Close() }() // read-only
	sc := bufio.NewScanner(f)
	var first string
	if sc.Scan() {
		first = strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read migration %s: %w", file, err)
	}
	want := "write " + markerPrefix + deploy.KindExpand + " (adds only: a release runs it) or " + markerPrefix + deploy.KindContract + " (removes or renames: held until no kept release needs the old schema)"
	k, ok := strings.CutPrefix(first, markerPrefix)
	switch {
	case ok && (k == deploy.KindExpand || k == deploy.KindContract):
		return k, nil
	case ok || strings.HasPrefix(strings.ReplaceAll(first, " ", ""), "--slipway"):
		return "", fmt.Errorf("%s:1: unknown marker %q: %s", file, first, want)
	}
	return "", fmt.Errorf("%s:1: no kind marker on the first line: %s", file, want)
}

// schemaLabelsOf reads the migrations directory dir of the build's tree
// (only files git tracks are there) and adds its labels to labels.
func (b *Builder) schemaLabelsOf(src Tree, dir, migrations string, labels map[string]string) (map[string]string, error) {
	p, err := b.tracked(src, dir, migrations)
	if err != nil {
		return nil, err
	}
	sl, err := SchemaLabels(os.DirFS(p), b.show(migrations))
	if err != nil {
		return nil, fmt.Errorf("build: schema labels: %w", err)
	}
	out := maps.Clone(labels)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, sl)
	return out, nil
}
