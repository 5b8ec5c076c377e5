// Package pgimage builds Slipway's local Postgres image: FROM scratch, from
// the Postgres binaries Debian's postgresql package installed on this
// machine, the shared libraries they load (resolved with ldd), their share/
// files, time zone data, a /bin/sh for initdb, and our own static entrypoint
// (cmd/slipway-pg-entrypoint), which does what the official image's
// entrypoint does for POSTGRES_USER and POSTGRES_PASSWORD.
//
// On a user's machine the database image is the official one (DefaultImage);
// tests and CI, where nothing can be pulled, build this one and set
// SLIPWAY_DB_IMAGE to LocalTag.
package pgimage

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/slipway/slipway/internal/image"
)

const (
	// DefaultImage is the database image on a user's machine.
	DefaultImage = "postgres:16"
	// LocalTag names the image Build makes.
	LocalTag = "slipway-postgres:local"
	// EnvImage is the setting that overrides DefaultImage.
	EnvImage = "SLIPWAY_DB_IMAGE"
	// UID is the postgres user inside the image, as in the official image.
	UID = 999
)

// ImageFromEnv returns the database image to run: $SLIPWAY_DB_IMAGE, or
// DefaultImage.
func ImageFromEnv(getenv func(string) string) string {
	if v := getenv(EnvImage); v != "" {
		return v
	}
	return DefaultImage
}

// Options say where the parts of the image come from.
type Options struct {
	ModuleDir string   // the Slipway module, to compile the entrypoint
	BinDir    string   // Postgres programs; the newest /usr/lib/postgresql/*/bin when empty
	Tags      []string // LocalTag when empty
}

// Build makes the local Postgres image from this machine's Postgres and
// returns its ID. It fails with what to install when Postgres is missing.
func Build(ctx context.Context, e image.Engine, o Options, progress io.Writer) (id string, err error) {
	if o.BinDir == "" {
		o.BinDir = findBinDir()
	}
	if len(o.Tags) == 0 {
		o.Tags = []string{LocalTag}
	}
	for _, p := range []string{"postgres", "initdb"} {
		if _, err := os.Stat(filepath.Join(o.BinDir, p)); err != nil {
			return "", fmt.Errorf("build Postgres image: %s not found in %s (install Debian's postgresql package: scripts/setup-debian.sh): %w", p, o.BinDir, err)
		}
	}
	dir, err := os.MkdirTemp("", "slipway-pgimage-")
	if err != nil {
		return "", fmt.Errorf("build Postgres image: %w", err)
	}
	defer func() {
		if rmErr := os.RemoveAll(dir); rmErr != nil && err == nil {
			err = fmt.Errorf("remove build directory: %w", rmErr)
		}
	}()
	entry := filepath.Join(dir, "entrypoint")
	if err := image.CompileStatic(ctx, o.ModuleDir, "./cmd/slipway-pg-entrypoint", entry, "local", "local", false); err != nil {
		return "", fmt.Errorf("build Postgres image: %w", err)
	}
	files, err := rootFiles(ctx, o.BinDir, entry)
	if err != nil {
		return "", fmt.Errorf("build Postgres image: %w", err)
	}
	return image.Build(ctx, e, image.BuildOptions{Context: buildContext(files, o.BinDir), Tags: o.Tags}, progress)
}

// findBinDir returns the bin directory of the newest Postgres major version
// Debian installed, or its usual place when none is there.
func findBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin") // the pattern is valid
	major := func(d string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(d))) // not a number: 0
		return n
	}
	sort.Slice(dirs, func(i, j int) bool { return major(dirs[i]) > major(dirs[j]) })
	if len(dirs) == 0 {
		return "/usr/lib/postgresql/15/bin"
	}
	return dirs[0]
}
