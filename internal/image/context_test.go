package image_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/image"
)

type tarEntry struct {
	mode    int64
	content string
}

func readTar(t *testing.T, r io.Reader) ([]string, map[string]tarEntry) {
	t.Helper()
	var names []string
	entries := map[string]tarEntry{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names, entries
		}
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s: %v", hdr.Name, err)
		}
		if !hdr.ModTime.Equal(time.Unix(0, 0)) || hdr.Uid != 0 || hdr.Gid != 0 || hdr.Typeflag != tar.TypeReg {
			t.Errorf("%s: mtime %v uid %d gid %d type %c; want a regular file at epoch owned by root",
				hdr.Name, hdr.ModTime, hdr.Uid, hdr.Gid, hdr.Typeflag)
		}
		names = append(names, hdr.Name)
		entries[hdr.Name] = tarEntry{mode: hdr.Mode, content: string(b)}
	}
}

func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // not masked by umask
		t.Fatal(err)
	}
	return p
}

func TestTarContextKeepsTheExecutableBitAndIsReproducible(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"Dockerfile": writeFile(t, dir, "df", "FROM scratch\n", 0o600),
		"app":        writeFile(t, dir, "bin", "\x7fELF", 0o700),
		"conf/a.txt": writeFile(t, dir, "a", "a", 0o644),
	}
	first, err := image.TarContext(files)
	if err != nil {
		t.Fatal(err)
	}
	firstBytes, err := io.ReadAll(first)
	if err != nil {
		t.Fatal(err)
	}
	names, entries := readTar(t, bytes.NewReader(firstBytes))
	if want := []string{"Dockerfile", "app", "conf/a.txt"}; !equalStrings(names, want) {
		t.Errorf("entries %v, want %v in this order", names, want)
	}
	want := map[string]tarEntry{
		"Dockerfile": {0o644, "FROM scratch\n"},
		"app":        {0o755, "\x7fELF"},
		"conf/a.txt": {0o644, "a"},
	}
	for name, w := range want {
		if got := entries[name]; got != w {
			t.Errorf("%s: mode %o content %q, want mode %o content %q", name, got.mode, got.content, w.mode, w.content)
		}
	}
	second, err := image.TarContext(files)
	if err != nil {
		t.Fatal(err)
	}
	secondBytes, err := io.ReadAll(second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(firstBytes, secondBytes) {
		t.Error("two contexts from the same files differ")
	}
}

func TestTarContextRejects(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "f", "x", 0o644)
	tests := map[string]map[string]string{
		"an absolute name":               {"/etc/passwd": file},
		"a name escaping the context":    {"../app": file},
		"a name that is not clean":       {"a/../app": file},
		"an empty name":                  {"": file},
		"a missing source file":          {"app": filepath.Join(dir, "missing")},
		"a directory as the source file": {"app": dir},
	}
	for name, files := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := image.TarContext(files); err == nil {
				t.Errorf("TarContext(%v) succeeded", files)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
