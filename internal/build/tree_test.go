package build_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/testenv"
)

// What goes into a build is what git tracks: for a clean commit its own
// tree, whatever the working tree holds; with uncommitted changes the
// tracked files as they are, staged or not. Untracked files, ignored or
// not, are in neither, and the checkout's index is left as it was.
func TestATreeHoldsOnlyTrackedFiles(t *testing.T) {
	r := newRepo(t)
	r.write(".gitignore", "*.log\n")
	r.write("sub/a.txt", "committed")
	r.write("sub/run.sh", "#!/bin/sh\n")
	if err := os.Chmod(filepath.Join(r.dir, "sub/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.txt", filepath.Join(r.dir, "sub/link")); err != nil {
		t.Fatal(err)
	}
	r.git("add", ".")
	r.git("commit", "-q", "-m", "one")
	commit := r.git("rev-parse", "HEAD")
	r.write("sub/a.txt", "changed, not staged")
	r.write("sub/staged.txt", "new, staged")
	r.git("add", "sub/staged.txt")
	r.write("sub/untracked.txt", "untracked")
	r.write("sub/build.log", "ignored")
	status := r.git("status", "--porcelain", "--untracked-files=all")

	tests := map[string]struct {
		rev  build.Revision
		want map[string]string
	}{
		"a clean commit is its own tree, not the working tree": {
			rev:  build.Revision{Commit: commit},
			want: map[string]string{".gitignore": "*.log\n", "sub/a.txt": "committed", "sub/run.sh": "#!/bin/sh\n", "sub/link": "-> a.txt"},
		},
		"uncommitted changes are the tracked files as they are": {
			rev:  build.Revision{Commit: commit, Dirty: true},
			want: map[string]string{".gitignore": "*.log\n", "sub/a.txt": "changed, not staged", "sub/staged.txt": "new, staged", "sub/run.sh": "#!/bin/sh\n", "sub/link": "-> a.txt"},
		},
		"a pinned commit the checkout does not have is the working tree's tracked files": {
			rev:  build.Revision{Commit: "dead0000000000000000000000000000000000be"},
			want: map[string]string{".gitignore": "*.log\n", "sub/a.txt": "changed, not staged", "sub/staged.txt": "new, staged", "sub/run.sh": "#!/bin/sh\n", "sub/link": "-> a.txt"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tree, err := build.TreeOf(t.Context(), filepath.Join(r.dir, "sub"), tc.rev)
			if err != nil {
				t.Fatal(err)
			}
			dest := t.TempDir()
			dir, err := tree.Extract(t.Context(), dest)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(dest, "sub"); dir != want {
				t.Errorf("the checkout's files are in %s, want %s", dir, want)
			}
			if got := files(t, dest); !equalMaps(got, tc.want) {
				t.Errorf("extracted %v\nwant %v", got, tc.want)
			}
			if info, err := os.Stat(filepath.Join(dest, "sub/run.sh")); err != nil || info.Mode().Perm()&0o111 == 0 {
				t.Errorf("run.sh lost its executable bit: %v %v", info, err)
			}
		})
	}
	if got := r.git("status", "--porcelain", "--untracked-files=all"); got != status {
		t.Errorf("reading the tree changed the checkout's status:\n%s\nwas:\n%s", got, status)
	}
	tree, err := build.TreeOf(t.Context(), t.TempDir(), build.Revision{Commit: commit})
	if err != nil || tree.ID != "" {
		t.Errorf("a directory outside git: tree %+v, %v; want no tree (built as it is)", tree, err)
	}
}

// A build's files come from a slot kept in the checkout's git directory,
// which git brings to exactly the tree each time: what changed between
// builds, what someone wrote there, and what else is there are all made
// right. Builds at the same time get a slot each, then temporary
// directories.
func TestOpenGivesExactlyTheTreeInASlot(t *testing.T) {
	r := newRepo(t)
	r.write("a.txt", "one")
	r.write("gone.txt", "removed by the second commit")
	r.git("add", ".")
	r.git("commit", "-q", "-m", "one")
	first := r.git("rev-parse", "HEAD")
	r.write("a.txt", "two")
	r.git("rm", "-q", "gone.txt")
	r.write("new.txt", "added")
	r.git("add", ".")
	r.git("commit", "-q", "-m", "two")
	second := r.git("rev-parse", "HEAD")
	open := func(commit string) (string, func() error) {
		t.Helper()
		tree, err := build.TreeOf(t.Context(), r.dir, build.Revision{Commit: commit})
		if err != nil {
			t.Fatal(err)
		}
		dir, done, err := tree.Open(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return dir, done
	}
	check := func(dir string, want map[string]string) {
		t.Helper()
		if got := files(t, dir); !equalMaps(got, want) {
			t.Errorf("%s holds %v, want %v", dir, got, want)
		}
	}
	dir, done := open(first)
	check(dir, map[string]string{"a.txt": "one", "gone.txt": "removed by the second commit"})
	if err := done(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir, filepath.Join(r.dir, ".git")) {
		t.Errorf("files in %s, want a slot in the git directory", dir)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("written meanwhile"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "extra.go"), []byte("package main"), 0o644); err != nil {
		t.Fatal(err)
	}
	again, done := open(first)
	check(again, map[string]string{"a.txt": "one", "gone.txt": "removed by the second commit"})
	if again != dir {
		t.Errorf("a free slot was not reused: %s, then %s", dir, again)
	}
	if err := done(); err != nil {
		t.Fatal(err)
	}
	dir, done = open(second)
	check(dir, map[string]string{"a.txt": "two", "new.txt": "added"})

	busy := map[string]bool{dir: true}
	dones := []func() error{done}
	for range 4 { // three more slots, then a temporary directory
		d, done := open(first)
		check(d, map[string]string{"a.txt": "one", "gone.txt": "removed by the second commit"})
		if busy[d] {
			t.Errorf("%s given to two builds at once", d)
		}
		busy[d] = true
		dones = append(dones, done)
		dir = d
	}
	if strings.HasPrefix(dir, r.dir) {
		t.Errorf("with every slot busy, files in %s, want a temporary directory", dir)
	}
	for _, done := range dones {
		if err := done(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the temporary directory %s is still there: %v", dir, err)
	}
}

// files maps each file below dir to its content ("-> target" for a
// symbolic link).
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			out[filepath.ToSlash(rel)] = "-> " + target
			return err
		}
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// repo is a git repository in a temporary directory.
type repo struct {
	t   testing.TB
	dir string
}

func newRepo(t testing.TB) *repo {
	t.Helper()
	testenv.Binary(t, "git", "install git")
	r := &repo{t: t, dir: t.TempDir()}
	r.git("init", "-q")
	return r
}

// git runs git in the repository and returns its trimmed output.
func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.email=t@example.com", "-c", "user.name=t"}, args...)...)
	cmd.Dir = r.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *repo) write(name, body string) {
	r.t.Helper()
	p := filepath.Join(r.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *repo) remove(name string) {
	r.t.Helper()
	if err := os.Remove(filepath.Join(r.dir, name)); err != nil {
		r.t.Fatal(err)
	}
}

// copyTracked copies the files the Slipway checkout tracks under paths
// into the repository (not committed).
func (r *repo) copyTracked(paths ...string) {
	r.t.Helper()
	mod := testenv.ModuleDir(r.t)
	cmd := exec.Command("git", append([]string{"ls-files", "-z", "--"}, paths...)...)
	cmd.Dir = mod
	out, err := cmd.Output()
	if err != nil {
		r.t.Fatalf("git ls-files: %v", err)
	}
	names := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if slices.Contains(names, "") {
		r.t.Fatalf("no tracked files under %v", paths)
	}
	for _, name := range names {
		src := filepath.Join(mod, name)
		b, err := os.ReadFile(src)
		if err != nil {
			r.t.Fatal(err)
		}
		info, err := os.Stat(src)
		if err != nil {
			r.t.Fatal(err)
		}
		dst := filepath.Join(r.dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, info.Mode().Perm()); err != nil {
			r.t.Fatal(err)
		}
	}
}
