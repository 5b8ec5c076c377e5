// Package pgimage says which Postgres image the local target runs, pulls
// the official one when it is missing (pull.go), and builds Slipway's own
// for machines that cannot pull (debian.go): Debian's postgresql package of
// the same major version as the Aurora cluster of the aws target, installed
// into a minimal Debian root file system with mmdebstrap, plus our static
// entrypoint (cmd/slipway-pg-entrypoint), which does what the official
// image's entrypoint does for POSTGRES_USER and POSTGRES_PASSWORD.
//
// On a user's machine the database image is the official one
// (DefaultImage). Tests and CI, where nothing can be pulled, build the
// local one once per machine unless SLIPWAY_DB_IMAGE names another image:
// its tag names its recipe (RecipeTag), so a machine keeps one image per
// recipe and checkouts of different versions never rebuild over each
// other. `go run mage.go local:dbImage` builds it for a user and tags it
// LocalTag as well.
package pgimage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	dockerimage "github.com/docker/docker/api/types/image"

	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/pgname"
)

const (
	// Major is the PostgreSQL major version of both images (pgname).
	Major = pgname.Major
	// Suite is the Debian release whose postgresql-<Major> the local image
	// holds.
	Suite = "trixie"
	// DefaultImage, Repository, LocalTag and EnvImage: see package pgname.
	DefaultImage = pgname.DefaultImage
	Repository   = pgname.Repository
	LocalTag     = pgname.LocalTag
	EnvImage     = pgname.EnvImage
	// UID is the postgres user inside the image, as in the official image,
	// so a data volume works with either.
	UID = 999
	// LabelRecipe is the label holding the hash of what the local image was
	// built from (also in its RecipeTag).
	LabelRecipe = "dev.slipway.pgimage.recipe"
	// entrypointPkg is the entrypoint's main package in the module.
	entrypointPkg = "cmd/slipway-pg-entrypoint"
)

// ImageFromEnv returns the database image to run: $SLIPWAY_DB_IMAGE, or
// DefaultImage.
func ImageFromEnv(getenv func(string) string) string { return pgname.ImageFromEnv(getenv) }

// Engine is the part of the Docker client Build uses.
type Engine interface {
	image.Engine
	ImageImport(ctx context.Context, source dockerimage.ImportSource, ref string, options dockerimage.ImportOptions) (io.ReadCloser, error)
}

// Options say where the parts of the local image come from.
type Options struct {
	ModuleDir string // the Slipway module, to compile the entrypoint
	Tag       string // a name to give the image besides its RecipeTag ("": none)
}

// RecipeTag is the local image's tag for a recipe hash.
func RecipeTag(recipe string) string { return Repository + ":" + Major + "-" + recipe }

// Build makes sure the local Postgres image of this recipe (Debian suite,
// package, hooks, Dockerfile and the entrypoint's source) exists, building
// it when it does not, gives it o.Tag when set, and returns its RecipeTag.
// Processes building at once on one machine take turns (a lock file), so
// the second finds the first one's image. fresh is false when the image
// was already there.
func Build(ctx context.Context, e Engine, o Options, progress io.Writer) (ref string, fresh bool, err error) {
	if progress == nil {
		progress = io.Discard
	}
	recipe, err := recipeHash(o.ModuleDir)
	if err != nil {
		return "", false, fmt.Errorf("build Postgres image: %w", err)
	}
	ref = RecipeTag(recipe)
	tags := []string{ref}
	if o.Tag != "" && o.Tag != ref {
		tags = append(tags, o.Tag)
	}
	unlock, err := lock(filepath.Join(os.TempDir(), "slipway-pgimage.lock"))
	if err != nil {
		return "", false, fmt.Errorf("build Postgres image: %w", err)
	}
	defer unlock()
	_, err = e.ImageInspect(ctx, ref)
	switch {
	case err == nil:
		return ref, false, image.Tag(ctx, e, ref, tags[1:]...)
	case !cerrdefs.IsNotFound(err):
		return "", false, fmt.Errorf("build Postgres image: inspect %s: %w", ref, err)
	}
	if _, err := buildDebian(ctx, e, o.ModuleDir, tags, recipe, progress); err != nil {
		return "", false, fmt.Errorf("build Postgres image %s: %w", ref, err)
	}
	return ref, true, nil
}

// recipeHash hashes what decides the image's content: the mmdebstrap
// arguments, the Dockerfile and the entrypoint's Go files.
func recipeHash(moduleDir string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%q\n%s\n", mmdebstrapArgs(), dockerfile)
	dir := filepath.Join(moduleDir, entrypointPkg)
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("find the entrypoint's source in %s: %v files, %v (is ModuleDir the Slipway module?)", dir, len(files), err)
	}
	sort.Strings(files)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("hash the entrypoint's source: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}
