package pgimage

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// entry is one file of the image's root file system.
type entry struct {
	src  string // host file to copy (regular files)
	data []byte // or these bytes
	link string // or a symbolic link to this target
	dir  bool   // or a directory
	mode fs.FileMode
}

// tree maps an absolute path in the image to what is there.
type tree map[string]entry

// rootFiles gathers everything the image holds besides the Dockerfile.
func rootFiles(ctx context.Context, binDir, entrypoint string) (tree, error) {
	t := tree{}
	share, pkglib, err := pgDirs(ctx, binDir)
	if err != nil {
		return nil, err
	}
	elves := []string{filepath.Join(binDir, "postgres"), filepath.Join(binDir, "initdb")}
	for _, p := range elves {
		t.file(p, p, 0o755)
	}
	sh, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		return nil, fmt.Errorf("find /bin/sh for initdb: %w", err)
	}
	t.file(realDir("/bin/sh"), sh, 0o755)
	elves = append(elves, sh)
	mods, err := filepath.Glob(filepath.Join(pkglib, "*.so"))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", pkglib, err)
	}
	for _, m := range mods {
		if strings.HasPrefix(filepath.Base(m), "llvmjit") {
			continue // JIT is off without it; it would pull in all of LLVM
		}
		t.file(m, m, 0o644)
		elves = append(elves, m)
	}
	if err := t.libraries(ctx, elves); err != nil {
		return nil, err
	}
	if err := t.copyTree(share, nil); err != nil {
		return nil, err
	}
	if err := t.copyTree("/usr/share/zoneinfo", map[string]bool{"right": true}); err != nil {
		return nil, err
	}
	t.topLinks()
	t["/usr/local/bin/slipway-pg-entrypoint"] = entry{src: entrypoint, mode: 0o755}
	t["/etc/passwd"] = entry{data: []byte(fmt.Sprintf("root:x:0:0:root:/root:/bin/sh\npostgres:x:%d:%d:PostgreSQL:/var/lib/postgresql:/bin/sh\n", UID, UID)), mode: 0o644}
	t["/etc/group"] = entry{data: []byte(fmt.Sprintf("root:x:0:\npostgres:x:%d:\n", UID)), mode: 0o644}
	t["/tmp"] = entry{dir: true, mode: 0o1777}
	return t, nil
}

// pgDirs asks pg_config where the share/ files and the loadable modules are.
func pgDirs(ctx context.Context, binDir string) (share, pkglib string, err error) {
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "pg_config"), "--sharedir", "--pkglibdir").Output()
	if err != nil {
		return "", "", fmt.Errorf("run pg_config in %s: %w", binDir, err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != 2 {
		return "", "", fmt.Errorf("run pg_config: unexpected output %q", out)
	}
	return lines[0], lines[1], nil
}

// file puts the host file src at dst, following links in src.
func (t tree) file(dst, src string, mode fs.FileMode) {
	t[dst] = entry{src: src, mode: mode}
}

// realDir is p with the links in its directory resolved, so that a file
// named /lib/x/libc.so.6 lands at /usr/lib/x/libc.so.6 on a merged-/usr
// system, where the image's /lib is the same link to usr/lib.
func realDir(p string) string {
	dir, err := filepath.EvalSymlinks(filepath.Dir(p))
	if err != nil {
		return p
	}
	return filepath.Join(dir, filepath.Base(p))
}

// libraries adds every shared library ldd says the ELF files load.
func (t tree) libraries(ctx context.Context, elves []string) error {
	seen := map[string]bool{}
	for _, elf := range elves {
		out, err := exec.CommandContext(ctx, "ldd", elf).Output()
		if err != nil {
			return fmt.Errorf("ldd %s: %w", elf, err)
		}
		libs, err := parseLDD(out)
		if err != nil {
			return fmt.Errorf("ldd %s: %w", elf, err)
		}
		for _, lib := range libs {
			if seen[lib] {
				continue
			}
			seen[lib] = true
			real, err := filepath.EvalSymlinks(lib)
			if err != nil {
				return fmt.Errorf("resolve %s (loaded by %s): %w", lib, elf, err)
			}
			t.file(realDir(lib), real, 0o755)
		}
	}
	return nil
}

// parseLDD returns the library paths in ldd's output, and an error naming
// any library ldd could not find.
func parseLDD(out []byte) ([]string, error) {
	var libs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.Contains(line, "not found") {
			return nil, fmt.Errorf("missing library: %s", line)
		}
		if _, after, ok := strings.Cut(line, "=> "); ok {
			line = after
		}
		p, _, _ := strings.Cut(line, " ")
		if strings.HasPrefix(p, "/") {
			libs = append(libs, p)
		}
	}
	return libs, sc.Err()
}

// copyTree adds the directory root with its files and links, skipping the
// top-level entries named in skip.
func (t tree) copyTree(root string, skip map[string]bool) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("copy %s: %w", root, err)
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if skip[rel] {
			return filepath.SkipDir
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return fmt.Errorf("copy %s: %w", p, err)
			}
			t[p] = entry{link: target}
		case d.IsDir():
			t[p] = entry{dir: true, mode: 0o755}
		case d.Type().IsRegular():
			t.file(p, p, 0o644)
		}
		return nil
	})
}

// topLinks mirrors the host's merged-/usr links (/bin -> usr/bin, ...).
func (t tree) topLinks() {
	for _, top := range []string{"/bin", "/lib", "/lib64", "/sbin"} {
		if target, err := os.Readlink(top); err == nil {
			t[top] = entry{link: target}
		}
	}
}

// paths returns the tree's paths with every parent directory added, sorted
// so that a directory comes before what it holds.
func (t tree) paths() []string {
	for p := range t {
		for dir := path.Dir(p); dir != "/"; dir = path.Dir(dir) {
			if _, ok := t[dir]; !ok {
				t[dir] = entry{dir: true, mode: 0o755}
			}
		}
	}
	ps := make([]string, 0, len(t))
	for p := range t {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}
