package magerun_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/testenv"
)

// goRunMage runs `go run mage.go args…` in dir as a user would, with env
// added, and returns stdout, stderr and the error.
func goRunMage(ctx context.Context, dir string, env []string, args ...string) (string, string, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"run", "mage.go"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// A user runs `status` in one terminal while `preview:deploy` runs in
// another: sixteen runs at once in one checkout (twelve of a target, which
// compiles the magefiles, and four of the list) must all succeed. Before the
// fix, 1 to 5 in 12 failed with "error compiling magefiles" or "expected
// 'package', found 'EOF'" on magefiles/mage_output_file.go.
func TestConcurrentRunsInOneCheckoutAllSucceed(t *testing.T) {
	root := testenv.ModuleDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	env := []string{"MAGEFILE_CACHE=" + t.TempDir(), "SLIPWAY_TARGET=local"}
	const runs = 16
	errs := make([]string, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			args := []string{"config"}
			want := "SLIPWAY_APP"
			if i%4 == 3 {
				args, want = []string{"-l"}, "preview:deploy"
			}
			out, stderr, err := goRunMage(ctx, root, env, args...)
			if err != nil || !strings.Contains(out, want) {
				errs[i] = fmt.Sprintf("run %d (%s): %v\nstdout:\n%s\nstderr:\n%s", i, args[0], err, out, stderr)
			}
		})
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "magefiles", "mage_output_file.go")); err == nil {
		t.Error("magefiles/mage_output_file.go was left behind")
	}
}

// Two checkouts with identical magefiles but different internal/ code, run at
// the same time with one shared mage cache (the user's home): each must run
// its own code.
func TestEachCheckoutRunsItsOwnCode(t *testing.T) {
	root := testenv.ModuleDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	a, b := checkout(t, root, "checkout A"), checkout(t, root, "checkout B")
	env := []string{"MAGEFILE_CACHE=" + t.TempDir()}
	const rounds = 4
	errs := make([]string, 2*rounds)
	var wg sync.WaitGroup
	for i := range 2 * rounds {
		dir, want := a, "checkout A"
		if i%2 == 1 {
			dir, want = b, "checkout B"
		}
		wg.Go(func() {
			out, stderr, err := goRunMage(ctx, dir, env, "hello")
			if err != nil || strings.TrimSpace(out) != want {
				errs[i] = fmt.Sprintf("run %d in %s printed %q, want %q: %v\n%s", i, want, out, want, err, stderr)
			}
		})
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
	// An edit to internal/ code is what the next run runs.
	write(t, filepath.Join(a, "internal", "hello", "hello.go"), "package hello\n\nconst Msg = \"checkout A, edited\"\n")
	if out, stderr, err := goRunMage(ctx, a, env, "hello"); err != nil || strings.TrimSpace(out) != "checkout A, edited" {
		t.Errorf("after an edit, checkout A printed %q: %v\n%s", out, err, stderr)
	}
}

// checkout makes a minimal copy of this module in a temporary directory:
// the bootstrap, a magefile identical in every copy, and an internal package
// that prints msg.
func checkout(t *testing.T, root, msg string) string {
	t.Helper()
	dir := t.TempDir()
	copyFiles(t, root, dir, "go.mod", "go.sum", "mage.go")
	bootstrap, err := filepath.Glob(filepath.Join(root, "magerun", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range bootstrap {
		if !strings.HasSuffix(f, "_test.go") {
			rel, _ := filepath.Rel(root, f)
			copyFiles(t, root, dir, rel)
		}
	}
	write(t, filepath.Join(dir, "magefiles", "magefile.go"), `//go:build mage

package main

import (
	"fmt"

	"github.com/slipway/slipway/internal/hello"
)

// Hello prints this checkout's message.
func Hello() { fmt.Println(hello.Msg) }
`)
	write(t, filepath.Join(dir, "internal", "hello", "hello.go"), fmt.Sprintf("package hello\n\nconst Msg = %q\n", msg))
	return dir
}

func copyFiles(t *testing.T, from, to string, rels ...string) {
	t.Helper()
	for _, rel := range rels {
		b, err := os.ReadFile(filepath.Join(from, rel))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(to, rel), string(b))
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
