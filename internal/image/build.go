package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"

	"github.com/docker/docker/api/types/build"
)

// BuildOptions says what to build and how to name it.
type BuildOptions struct {
	Context    io.Reader         // a tar build context, see TarContext
	Dockerfile string            // its name in the context; "" for Dockerfile
	Target     string            // the stage to build; "" for the last
	Tags       []string          // references the daemon gives the image
	BuildArgs  map[string]string // values for the Dockerfile's ARGs
	Labels     map[string]string // labels added on top of the Dockerfile's
}

// Build sends the tar o.Context to the daemon's classic builder (never
// BuildKit, never pulling a base image), writes the builder's output to progress one
// line per event, and returns the new image's ID. An error reported inside
// the build stream is returned as a *StreamError "build image: <reason>".
func Build(ctx context.Context, e Engine, o BuildOptions, progress io.Writer) (id string, err error) {
	if o.Context == nil {
		return "", errors.New("build image: no build context")
	}
	args := argPointers(o.BuildArgs)
	resp, err := e.ImageBuild(ctx, o.Context, build.ImageBuildOptions{
		Version:     build.BuilderV1,
		Dockerfile:  o.Dockerfile,
		Target:      o.Target,
		Tags:        o.Tags,
		BuildArgs:   args,
		Labels:      o.Labels,
		Remove:      true,
		ForceRemove: true,
		PullParent:  false,
	})
	if err != nil {
		return "", fmt.Errorf("build image: %w", err)
	}
	defer closeInto(&err, resp.Body, "build stream")
	p := &buildProgress{lines: lineWriter{w: orDiscard(progress)}}
	err = decodeStream(resp.Body, "build image", func(m message) error {
		if len(m.Aux) > 0 {
			var aux struct{ ID string }
			if err := json.Unmarshal(m.Aux, &aux); err != nil {
				return fmt.Errorf("build image: decode result %s: %w", m.Aux, err)
			}
			id = aux.ID
		}
		return p.show(m)
	})
	if err != nil {
		return "", err
	}
	if err := p.lines.flush(); err != nil {
		return "", err
	}
	if id == "" {
		return "", errors.New("build image: the daemon reported no image ID")
	}
	return id, nil
}

// GoImage describes an image holding one Go program.
type GoImage struct {
	ModuleDir  string            // directory of the program's go.mod
	Package    string            // main package, relative to ModuleDir ("./cmd/app")
	Dockerfile string            // path of the Dockerfile; it copies the binary Binary
	Binary     string            // the binary's name in the build context; "app" when empty
	Version    string            // linked into main.version; build arg VERSION
	Commit     string            // linked into main.commit; build arg REVISION
	Dirty      bool              // built from a working tree with uncommitted changes: main.dirty, REVISION "<commit>-dirty", label LabelDirty
	Source     string            // repository URL; build arg SOURCE
	Tags       []string          // references the daemon gives the image
	Labels     map[string]string // labels added on top of the Dockerfile's
	// Args, when set, gives more build arguments read from the compiled
	// binary (at bin) before the image is built.
	Args    func(ctx context.Context, bin string) (map[string]string, error)
	Classic bool // build with the classic builder even where the engine has BuildKit
}

// LabelDirty is the image label that marks a build from a working tree with
// uncommitted changes; its OCI revision label is then "<commit>-dirty", so
// no label of a dirty image names the clean commit alone.
const LabelDirty = "dev.slipway.dirty"

// BuildGo compiles g's program statically into a directory holding only
// the binary (g.Binary, default "app"), builds the image of g's Dockerfile
// from it (BuildDockerfile: BuildKit where the engine has it) with the
// build arguments VERSION, REVISION and SOURCE the Dockerfile turns into
// OCI labels, and returns the image ID.
func BuildGo(ctx context.Context, e Engine, g GoImage, progress io.Writer) (id string, err error) {
	dir, err := os.MkdirTemp("", "slipway-image-")
	if err != nil {
		return "", fmt.Errorf("create build directory: %w", err)
	}
	defer func() {
		if rmErr := os.RemoveAll(dir); rmErr != nil && err == nil {
			err = fmt.Errorf("remove build directory: %w", rmErr)
		}
	}()
	name := g.Binary
	if name == "" {
		name = "app"
	}
	bin := filepath.Join(dir, name)
	if err := CompileStatic(ctx, g.ModuleDir, g.Package, bin, g.Version, g.Commit, g.Dirty); err != nil {
		return "", err
	}
	args := map[string]string{}
	if g.Args != nil {
		if args, err = g.Args(ctx, bin); err != nil {
			return "", err
		}
	}
	revision, labels := g.Commit, maps.Clone(g.Labels)
	if g.Dirty {
		revision = g.Commit + "-dirty"
		labels = withArgs(labels, map[string]string{LabelDirty: "true"})
	}
	return BuildDockerfile(ctx, e, Dockerfile{
		Context: dir, Dockerfile: g.Dockerfile, Tags: g.Tags, Labels: labels, Classic: g.Classic,
		BuildArgs: withArgs(args, map[string]string{
			"VERSION":  g.Version,
			"REVISION": revision,
			"SOURCE":   g.Source,
		}),
		// One name for every build of the program, whichever temporary
		// directory holds it: the engine keeps the last binary it was sent.
		SyncKey: "go:" + g.Package + ":" + name,
	}, progress)
}

// withArgs is base with extra added (base wins: extra may not change the
// version, revision or source).
func withArgs(extra, base map[string]string) map[string]string {
	out := make(map[string]string, len(extra)+len(base))
	maps.Copy(out, extra)
	maps.Copy(out, base)
	return out
}
