package manifest

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Pos is a place in the file; Col 0 means the whole line, Line 0 the
// whole file.
type Pos struct{ Line, Col int }

// keyPos is where a key and its value are.
type keyPos struct{ key, value Pos }

// Error is one problem in the file, at a place.
type Error struct {
	File string
	Pos
	Msg string
}

func (e *Error) Error() string {
	switch {
	case e.Line == 0:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	case e.Col == 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Errors are every problem found in one file, in the order of the file,
// one per line.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// problems collects Errors for one file.
type problems struct {
	file string
	errs Errors
}

func (p *problems) at(pos Pos, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// err returns the problems sorted by place, or nil.
func (p *problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(p.errs, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	return p.errs
}

// peerKeys are what other tools call our keys (Copilot, Kamal, fly.toml,
// Docker Compose), by the level they would appear at.
var peerKeys = map[string]map[string]string{
	"": {
		"name": "app", "service": "app",
		"image": "build", "dockerfile": "build.dockerfile",
		"internal_port": "port", "app_port": "port", "container_port": "port", "ports": "port",
		"healthcheck": "health", "health_check": "health", "http": "health", "checks": "health",
		"variables": "env", "environment": "env", "vars": "env",
		"environments": "preview|production", "review": "preview", "previews": "preview",
		"cpu": "resources.cpu", "memory": "resources.memory",
		"tests": "test", "migrations": "database.migrations",
	},
	"test":     {"cmd": "command", "script": "command", "run": "command", "report": "junit"},
	"health":   {"retries": "unhealthy_threshold", "start_period": "grace", "grace_period": "grace"},
	"database": {"migrate_command": "migrate", "seed_command": "seed"},
	"build":    {"dir": "context", "file": "dockerfile", "build_args": "args", "arguments": "args"},
}

// suggest returns ` (did you mean "x"?)` for an unknown key among known at
// level (a dotted path, "" for the top), or "".
func suggest(level, key string, known []string) string {
	if s, ok := peerKeys[level][strings.ToLower(key)]; ok {
		alts := strings.Split(s, "|")
		for i, a := range alts {
			alts[i] = strconv.Quote(a)
		}
		return fmt.Sprintf(" (did you mean %s?)", strings.Join(alts, " or "))
	}
	best, bestD := "", 3
	if len(key) < 5 {
		bestD = 2
	}
	for _, k := range known {
		if normal(k) == normal(key) {
			return fmt.Sprintf(" (did you mean %q?)", k)
		}
		if d := distance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	for _, k := range allKeys() { // the right key at the wrong indentation
		if normal(k[strings.LastIndex(k, ".")+1:]) != normal(key) {
			continue
		}
		if !strings.Contains(k, ".") {
			return fmt.Sprintf(" (%q is a top-level key: indent it less?)", k)
		}
		return fmt.Sprintf(" (did you mean %q?)", k)
	}
	return fmt.Sprintf(" (known keys: %s)", strings.Join(known, ", "))
}

// allKeys is every key of the file as a dotted path, parents first.
var allKeys = sync.OnceValue(func() []string {
	var out []string
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for i := range t.NumField() {
			f := t.Field(i)
			k := yamlKey(f)
			if k == "" {
				continue
			}
			out = append(out, join(path, k))
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				walk(ft, join(path, k))
			}
		}
	}
	walk(reflect.TypeFor[Manifest](), "")
	return out
})

// normal folds case and separators: healthyThreshold, healthy-threshold
// and healthy_threshold are one key.
func normal(s string) string {
	return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(s))
}

// distance is the optimal string alignment distance: edits, with a swap of
// two neighbours ("prot" for "port") counting as one.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
