package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/manifest"
)

// recipe is how an image is made from the directory holding the files of
// the checkout (Tree.Open), with labels added on top of the image's own.
type recipe struct {
	what string // how the image is made, for the log: "by the Go fast path (./sample-app)"
	make func(ctx context.Context, src Tree, dir string, labels map[string]string) (string, error)
}

// appRecipe is how the app image is built: the manifest's build section
// (a Dockerfile, or with build.go the Go fast path), or without a
// slipway.yaml Slipway's sample app by the Go fast path.
func (b *Builder) appRecipe(rev Revision, tags []string) (recipe, error) {
	g := image.GoImage{Version: rev.Version, Commit: rev.Commit, Dirty: rev.Dirty, Source: Source, Tags: tags}
	m := b.Manifest
	if m == nil || !m.Found() {
		g.Package = "./sample-app"
		return b.goRecipe(g, b.ModuleDir, filepath.Join(b.ModuleDir, "sample-app", "Dockerfile"), b.sampleMigrations()), nil
	}
	migrations := ""
	if m.Database != nil {
		migrations = m.Database.Migrations
	}
	if !m.Build.IsGo() {
		return b.dockerfileRecipe(rev, tags, m.Build, migrations), nil
	}
	mod, err := goModule(m.Build.Go, m.Root)
	if err != nil {
		return recipe{}, err
	}
	pkg, err := filepath.Rel(mod, m.Build.Go)
	if err != nil {
		return recipe{}, fmt.Errorf("build.go: %w", err)
	}
	g.Package = "./" + filepath.ToSlash(pkg)
	// Slipway's sample app keeps its migrations where its store embeds
	// them, also when its slipway.yaml leaves database.migrations out.
	if migrations == "" && filepath.Clean(m.Build.Go) == filepath.Join(b.ModuleDir, "sample-app") {
		migrations = b.sampleMigrations()
	}
	return b.goRecipe(g, mod, m.Build.Dockerfile, migrations), nil
}

// sampleMigrations is the migrations directory of Slipway's sample app.
func (b *Builder) sampleMigrations() string {
	return filepath.Join(b.ModuleDir, "sample-app", "store", "migrations")
}

// goRecipe compiles g's main package in the Go module mod (a path in the
// checkout) and builds dockerfile (another) around the binary. A
// migrations directory (a path in the checkout, "" for none) adds the
// schema labels its files say (SchemaLabels).
func (b *Builder) goRecipe(g image.GoImage, mod, dockerfile, migrations string) recipe {
	g.Classic = b.classic()
	return recipe{
		what: "by the Go fast path (" + g.Package + ")",
		make: func(ctx context.Context, src Tree, dir string, labels map[string]string) (id string, err error) {
			g := g
			if g.ModuleDir, err = b.tracked(src, dir, mod); err != nil {
				return "", err
			}
			if g.Dockerfile, err = b.tracked(src, dir, dockerfile); err != nil {
				return "", err
			}
			if migrations != "" {
				if labels, err = b.schemaLabelsOf(src, dir, migrations, labels); err != nil {
					return "", err
				}
			}
			g.Labels = labels
			return image.BuildGo(ctx, b.Engine, g, b.logw())
		},
	}
}

// dockerfileRecipe builds the manifest's Dockerfile from its context, with
// the OCI revision and version labels (and LabelDirty) a Go build's
// Dockerfile sets from its build arguments, and the schema labels of the
// migrations directory ("" for none).
func (b *Builder) dockerfileRecipe(rev Revision, tags []string, mb manifest.Build, migrations string) recipe {
	what := "from " + b.show(mb.Dockerfile)
	if mb.Target != "" {
		what += " (target " + mb.Target + ")"
	}
	return recipe{
		what: what,
		make: func(ctx context.Context, src Tree, dir string, labels map[string]string) (string, error) {
			contextDir, err := b.tracked(src, dir, mb.Context)
			if err != nil {
				return "", err
			}
			dockerfile, err := b.tracked(src, dir, mb.Dockerfile)
			if err != nil {
				return "", err
			}
			labels = maps.Clone(labels)
			if labels == nil {
				labels = map[string]string{}
			}
			if migrations != "" {
				if labels, err = b.schemaLabelsOf(src, dir, migrations, labels); err != nil {
					return "", err
				}
			}
			labels["org.opencontainers.image.revision"] = rev.Commit
			labels["org.opencontainers.image.version"] = rev.Version
			if rev.Dirty {
				labels["org.opencontainers.image.revision"] = rev.Commit + "-dirty"
				labels[image.LabelDirty] = "true"
			}
			return image.BuildDockerfile(ctx, b.Engine, image.Dockerfile{
				Context: contextDir, Dockerfile: dockerfile, Target: mb.Target, BuildArgs: mb.Args,
				Labels: labels, Tags: tags, Classic: b.classic(),
			}, b.logw())
		},
	}
}

// classic reports whether builds skip BuildKit: Classic, or
// DOCKER_BUILDKIT=0 as the docker CLI reads it.
func (b *Builder) classic() bool {
	return b.Classic || os.Getenv("DOCKER_BUILDKIT") == "0"
}

// tracked is where the checkout's path p is in dir, the directory holding
// src's files (Tree.Open), and an error naming p as the user knows it when
// it is not there: git does not track it.
func (b *Builder) tracked(src Tree, dir, p string) (string, error) {
	out, err := src.path(dir, p)
	if err != nil {
		return "", err
	}
	if _, err := os.Lstat(out); errors.Is(err, fs.ErrNotExist) && src.ID != "" {
		return "", fmt.Errorf("build: %s is not among the files git tracks, and a build takes only those: git add it (and commit)", b.show(p))
	} else if err != nil {
		return "", fmt.Errorf("build: %w", err)
	}
	return out, nil
}

// show is p relative to the checkout, as a user names it.
func (b *Builder) show(p string) string {
	if r, err := filepath.Rel(b.ModuleDir, p); err == nil && filepath.IsLocal(r) {
		return filepath.ToSlash(r)
	}
	return p
}

// goModule is the directory of the go.mod that holds the package in dir:
// dir or the nearest above it, not above root.
func goModule(dir, root string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("build.go: %w", err)
		}
		if d == root || filepath.Dir(d) == d {
			return "", fmt.Errorf("build.go: no go.mod in %s or above it in the repository", dir)
		}
	}
}

// path is where the checkout's path p (absolute, inside t.Dir's
// repository) is in dir, the directory Open returned for t. Outside a git
// checkout dir is t.Dir itself.
func (t Tree) path(dir, p string) (string, error) {
	rel, err := filepath.Rel(t.Dir, p)
	if err != nil {
		return "", fmt.Errorf("build: %s is not inside the checkout %s: %w", p, t.Dir, err)
	}
	out := filepath.Join(dir, rel)
	if t.ID == "" {
		return out, nil
	}
	root := dir // the repository's top in dir
	if prefix := strings.Trim(filepath.ToSlash(t.Prefix), "/"); prefix != "" {
		for range strings.Split(prefix, "/") {
			root = filepath.Dir(root)
		}
	}
	if r, err := filepath.Rel(root, out); err != nil || (r != "." && !filepath.IsLocal(r)) {
		return "", fmt.Errorf("build: %s is outside the repository of %s: a build takes only the files git tracks there", p, t.Dir)
	}
	return out, nil
}
