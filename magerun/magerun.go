// Package magerun is the body of the zero-install bootstrap (mage.go). It
// runs mage so that any number of `go run mage.go …` at once in one checkout
// succeed and each checkout runs its own code:
//
//   - mage writes its generated main file into magefiles/ and compiles it on
//     every run; a lock per checkout serialises that step (only that step:
//     targets run outside the lock, so `status` works while `preview:deploy`
//     runs in another terminal);
//   - mage names its compiled binary after a hash of the magefiles alone, so
//     identical magefiles in two checkouts share one binary in the user's
//     home; here the binary lives in a cache directory keyed on the
//     checkout's path, and each run executes its own link to it.
package magerun

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/magefile/mage/mage"
	"github.com/magefile/mage/mg"
)

// Main runs mage with the process's arguments and returns its exit code.
func Main() int {
	return Run(os.Stdout, os.Stderr, os.Stdin, os.Args[1:])
}

// Run runs mage with args as `mage` would, in the current directory.
func Run(stdout, stderr io.Writer, stdin io.Reader, args []string) int {
	errlog := log.New(stderr, "", 0)
	inv, cmd, err := mage.Parse(stderr, stdout, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		errlog.Println("Error:", err)
		return 2
	}
	wd, err := os.Getwd()
	if err != nil {
		errlog.Println("Error: find the current directory:", err)
		return 1
	}
	cache, err := CacheDir(mg.CacheDir(), wd)
	if err != nil {
		errlog.Println("Error:", err)
		return 1
	}
	// mage's own commands (-clean) read the cache directory from the
	// environment.
	if err := os.Setenv(mg.CacheEnv, cache); err != nil {
		errlog.Println("Error: set", mg.CacheEnv+":", err)
		return 1
	}
	inv.CacheDir, inv.Stdin, inv.Stderr = cache, stdin, stderr
	unlock, err := lock(filepath.Join(cache, "compile.lock"))
	if err != nil {
		errlog.Println("Error:", err)
		return 1
	}
	if cmd != mage.None || inv.List || inv.Help || inv.Autocomplete {
		// Other commands (-clean, -compile, -version…), the list and the
		// help are quick: run them whole under the lock.
		defer unlock()
		if !inv.Help {
			return mage.ParseAndRun(stdout, stderr, stdin, args)
		}
		// A target's help shows its usage as this checkout runs it.
		var help bytes.Buffer
		code := mage.ParseAndRun(&help, stderr, stdin, args)
		if _, err := io.WriteString(stdout, helpUsage(help.String())); err != nil {
			errlog.Println("Error: write the help:", err)
			return 1
		}
		return code
	}
	exe, code := compile(inv, cache, errlog)
	unlock()
	if code != 0 {
		return code
	}
	defer func() { _ = os.RemoveAll(filepath.Dir(exe)) }()
	if inv.Dir == "" {
		inv.Dir = "."
	}
	if inv.WorkDir == "" {
		inv.WorkDir = inv.Dir
	}
	return mage.RunCompiled(inv, exe, errlog)
}

// compile compiles the magefiles into the checkout's binary in cache (go
// build leaves it alone when it is up to date) and links it into a fresh
// run directory, whose path it returns: a later compile replaces the binary
// with a new file, so this run's link keeps running the code it compiled.
// The caller holds the lock.
func compile(inv mage.Invocation, cache string, errlog *log.Logger) (string, int) {
	sweep(cache, time.Now().Add(-staleRun))
	inv.CompileOut = filepath.Join(cache, "mage")
	inv.Args = nil
	if code := mage.Invoke(inv); code != 0 {
		return "", code
	}
	dir, err := os.MkdirTemp(cache, "run-")
	if err != nil {
		errlog.Println("Error: create a directory for the compiled magefiles:", err)
		return "", 1
	}
	exe := filepath.Join(dir, "mage")
	if err := linkOrCopy(inv.CompileOut, exe); err != nil {
		_ = os.RemoveAll(dir)
		errlog.Println("Error:", err)
		return "", 1
	}
	return exe, 0
}

// linkOrCopy makes to a hard link of from, or a copy where links fail.
func linkOrCopy(from, to string) error {
	if os.Link(from, to) == nil {
		return nil
	}
	src, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("copy the compiled magefiles: %w", err)
	}
	defer func() { _ = src.Close() }()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		return fmt.Errorf("copy the compiled magefiles: %w", err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		_ = dst.Close()
		return fmt.Errorf("copy the compiled magefiles to %s: %w", to, err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("copy the compiled magefiles to %s: %w", to, err)
	}
	return nil
}

// staleRun is the age after which a run's directory belongs to a run that
// was killed (a normal run removes its own when it ends).
const staleRun = 24 * time.Hour

// sweep removes the run directories in cache last changed before cutoff.
func sweep(cache string, cutoff time.Time) {
	dirs, err := filepath.Glob(filepath.Join(cache, "run-*"))
	if err != nil {
		return
	}
	for _, d := range dirs {
		if st, err := os.Stat(d); err == nil && st.ModTime().Before(cutoff) {
			_ = os.RemoveAll(d)
		}
	}
}

// CacheDir returns (and creates) the cache directory of the checkout at
// workDir: a directory under base named after a hash of the absolute path.
func CacheDir(base, workDir string) (string, error) {
	abs, err := filepath.Abs(workDir)
	if err != nil {
		return "", fmt.Errorf("find the checkout's path: %w", err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	sum := sha256.Sum256([]byte(abs))
	dir := filepath.Join(base, "slipway-"+hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create mage's cache directory %s (set MAGEFILE_CACHE to another directory): %w", dir, err)
	}
	return dir, nil
}

// helpUsage rewrites mage's usage lines ("\tmage preview:deploy [-pr=…]")
// to the command a user of this checkout types: `go run mage.go …`.
func helpUsage(help string) string {
	lines := strings.Split(help, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "\tmage ") {
			lines[i] = "\tgo run mage.go " + strings.TrimPrefix(l, "\tmage ")
		}
	}
	return strings.Join(lines, "\n")
}
