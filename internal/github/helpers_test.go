package github

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// readTestdata returns testdata/name. The fixtures there are copies of
// /work/shared/fixtures/github (public GitHub payloads; see the SOURCES.md
// files), so the tests need nothing outside the package.
func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

// loadJSON decodes testdata/name into a generic value.
func loadJSON(t testing.TB, name string) any {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(readTestdata(t, name)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode fixture %s: %v", name, err)
	}
	return v
}

// golden compares got with testdata/golden/name, or rewrites the file when
// the test runs with -update.
func golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("create golden dir: %v", err)
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, got, 0o644); err != nil {
			t.Fatalf("write golden: %v", err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatalf("rename golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run `go test ./internal/github -run %s -update` to create it): %v", t.Name(), err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// moduleRoot walks up from the package directory to the directory with go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the package directory")
		}
		dir = parent
	}
}

// envMap turns a map into the env function Detect and friends take.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// mustRequest is the Request words ask for, as ParseRequest reads them.
func mustRequest(t *testing.T, args []string) Request {
	t.Helper()
	r, err := ParseRequest(args)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
