// Package build makes the images for a commit from the files git tracks
// (the commit's own tree when the checkout is clean, see Tree): the app's,
// from its slipway.yaml (any Dockerfile, built with BuildKit, or the Go
// fast path: a static binary on an empty image), Slipway's sample app when
// there is no slipway.yaml, and the local router's; then pushes the app's
// by digest when a registry is configured.
package build

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	dockerimage "github.com/docker/docker/api/types/image"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/gitrepo"
	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/manifest"
	"github.com/slipway/slipway/internal/naming"
)

// Source is the repository URL baked into the images' OCI labels.
const Source = "https://github.com/slipway/slipway"

// Builder builds the app and router images of the checkout in ModuleDir.
type Builder struct {
	Engine      image.Engine
	ModuleDir   string
	AppImage    string // repository of the app image, e.g. slipway/app
	RouterImage string // repository of the router image
	Registry    string // when set, the app image is pushed there and deployed by digest
	Auth        image.Auth
	Log         io.Writer
	Rev         *Revision // when set, build this revision instead of detecting it
	// LoadArchive, when set, is a `docker save` archive (SLIPWAY_IMAGE_ARCHIVE)
	// holding the app image of the commit to deploy: it is loaded instead of
	// building the checkout, which may be another commit (a fork's preview
	// deployed by a trusted job).
	LoadArchive string
	Archiver    Archiver
	// Rebuild skips reusing an image already tagged for the commit (tests
	// pin a synthetic commit while the code changes). The build cache still
	// makes an unchanged rebuild cheap.
	Rebuild bool
	// Manifest is the app as its slipway.yaml describes it: its build
	// section says how the app image is made. Nil, or one read from no
	// file, builds Slipway's sample app.
	Manifest *manifest.Manifest
	// Classic builds with the engine's classic builder even where it has
	// BuildKit (DOCKER_BUILDKIT=0 does too).
	Classic bool
}

// Revision is the commit and version a build carries. Dirty says the
// working tree had uncommitted changes: the version then ends in "-dirty"
// and the image says so in its tag, labels and /version.
type Revision struct {
	Commit, Version string
	Dirty           bool
}

// Detect returns the checkout's commit: SLIPWAY_COMMIT, else git HEAD.
// The version is SLIPWAY_VERSION, else `git describe`, else the short SHA,
// with "-dirty" added when the working tree has uncommitted changes (the
// same test the release guard applies, see Dirty).
func Detect(ctx context.Context, moduleDir string) (Revision, error) {
	commit := os.Getenv("SLIPWAY_COMMIT")
	if commit == "" {
		out, err := Git(ctx, moduleDir, "rev-parse", "HEAD")
		if err != nil {
			return Revision{}, fmt.Errorf("find the commit to build (set SLIPWAY_COMMIT, or run inside a git checkout with a commit): %w", err)
		}
		commit = out
	}
	s7, err := naming.ShortSHA(commit)
	if err != nil {
		return Revision{}, fmt.Errorf("SLIPWAY_COMMIT: %w", err)
	}
	dirty, err := Dirty(ctx, moduleDir)
	if err != nil && os.Getenv("SLIPWAY_COMMIT") == "" {
		return Revision{}, err
	} // with SLIPWAY_COMMIT outside a git checkout there is no tree to compare
	version := os.Getenv("SLIPWAY_VERSION")
	if version == "" {
		if v, err := Git(ctx, moduleDir, "describe", "--tags", "--always", "--dirty"); err == nil && v != "" {
			version = v
		} else {
			version = s7
		}
	}
	return Revision{Commit: strings.ToLower(commit), Version: version, Dirty: dirty}.marked(), nil
}

// marked makes the version and the flag agree: a dirty revision's version
// ends in "-dirty", and a version that ends so is dirty.
func (r Revision) marked() Revision {
	switch {
	case r.Dirty && !strings.HasSuffix(r.Version, "-dirty"):
		r.Version += "-dirty"
	case strings.HasSuffix(r.Version, "-dirty"):
		r.Dirty = true
	}
	return r
}

// Dirty reports whether the checkout in dir has uncommitted changes to
// tracked files. Untracked files, ignored or not, do not count: no build
// takes them (see Tree).
func Dirty(ctx context.Context, dir string) (bool, error) {
	out, err := Git(ctx, dir, "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return false, fmt.Errorf("read the working tree: %w", err)
	}
	return out != "", nil
}

// Git runs git in dir and returns its trimmed output, or an error with git's message.
func Git(ctx context.Context, dir string, args ...string) (string, error) {
	return gitrepo.Run(ctx, dir, args...)
}

// gitEnv is Git with more environment variables ("NAME=value").
func gitEnv(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	return gitrepo.RunEnv(ctx, dir, env, args...)
}

// Build builds the app image, tags it :<sha7> (:<sha7>-dirty from a working
// tree with uncommitted changes) and :<purpose>, pushes it when
// a registry is configured, and returns its immutable reference.
func (b *Builder) Build(ctx context.Context, purpose string) (deploy.Image, error) {
	rev, err := b.revision(ctx)
	if err != nil {
		return deploy.Image{}, err
	}
	if b.LoadArchive != "" {
		fmt.Fprintf(b.logw(), "build: loading the image of commit %s from %s instead of building\n", naming.ShortCommit(rev.Commit), b.LoadArchive)
		img, err := Load(ctx, b.Archiver, b.AppImage, rev.Commit, b.LoadArchive)
		if err != nil || b.Registry == "" {
			return img, err
		}
		return b.push(ctx, img, b.AppImage+":"+naming.ShortCommit(rev.Commit), purpose)
	}
	tags, err := naming.ImageTags(b.AppImage, rev.Commit, purpose, rev.Dirty)
	if err != nil {
		return deploy.Image{}, err
	}
	r, err := b.appRecipe(rev, tags)
	if err != nil {
		return deploy.Image{}, err
	}
	id, err := b.buildOrReuse(ctx, b.ModuleDir, rev, tags, r)
	if err != nil {
		return deploy.Image{}, err
	}
	platform, err := image.Platform(ctx, b.Engine, id)
	if err != nil {
		return deploy.Image{}, err
	}
	img := deploy.Image{Ref: id, Digest: id, Commit: rev.Commit, Version: rev.Version, Platform: platform}
	if b.Registry == "" {
		return img, nil
	}
	return b.push(ctx, img, id, purpose)
}

// push tags the local image source into the registry as :<sha7> and
// :<purpose>, pushes both and returns the image referenced by digest.
func (b *Builder) push(ctx context.Context, img deploy.Image, source, purpose string) (deploy.Image, error) {
	repo := b.Registry + "/" + b.AppImage
	tags, err := naming.ImageTags(repo, img.Commit, purpose, img.IsDirty())
	if err != nil {
		return deploy.Image{}, err
	}
	if err := image.Tag(ctx, b.Engine, source, tags...); err != nil {
		return deploy.Image{}, err
	}
	for _, tag := range tags {
		dgst, err := image.Push(ctx, b.Engine, tag, b.Auth, b.logw())
		if err != nil {
			return deploy.Image{}, err
		}
		img.Digest = dgst
	}
	if img.Ref, err = image.ByDigest(repo, img.Digest); err != nil {
		return deploy.Image{}, err
	}
	fmt.Fprintf(b.logw(), "build: pushed %s\n", img.Ref)
	return img, nil
}

// routerInputs are the paths the router binary is built from (checked with
// `go list -deps ./cmd/slipway-router`): the router's revision is the last
// commit that touched them, so deploying an app commit does not replace the
// shared router.
var routerInputs = []string{"cmd/slipway-router", "internal/router", "go.mod", "go.sum"}

// BuildRouter builds the local router's image, or reuses the one built from
// the same router sources, and returns its ID.
func (b *Builder) BuildRouter(ctx context.Context) (string, error) {
	// Found here, not when a command starts: only a command that brings
	// the local router up needs Slipway's module (a `go list` outside
	// Slipway's own checkout).
	dir, err := SlipwayModule(ctx, b.ModuleDir)
	if err != nil {
		return "", err
	}
	rev, err := b.routerRevision(ctx, dir)
	if err != nil {
		return "", err
	}
	tag, err := naming.CommitTag(rev.Commit, rev.Dirty)
	if err != nil {
		return "", err
	}
	tags := []string{b.RouterImage + ":" + tag, b.RouterImage + ":latest"}
	return b.buildOrReuse(ctx, dir, rev, tags, b.goRecipe(image.GoImage{
		Package: "./cmd/slipway-router", Binary: "router",
		Version: rev.Version, Commit: rev.Commit, Dirty: rev.Dirty, Source: Source, Tags: tags,
	}, dir, filepath.Join(dir, "cmd", "slipway-router", "Dockerfile"), ""))
}

// routerRevision is the last commit that changed the router's sources,
// "-dirty" when tracked ones have uncommitted changes (a clean router is
// built from that commit's tree, see TreeOf); without git history it is
// the build's revision. Rev (the app's revision) does not change it. dir
// is Slipway's module (SlipwayModule).
func (b *Builder) routerRevision(ctx context.Context, dir string) (Revision, error) {
	args := append([]string{"log", "-1", "--format=%H", "--"}, routerInputs...)
	commit, err := Git(ctx, dir, args...)
	if err != nil || commit == "" {
		return b.revision(ctx)
	}
	version := "router-" + naming.ShortCommit(commit)
	status, err := Git(ctx, dir, append([]string{"status", "--porcelain", "--untracked-files=no", "--"}, routerInputs...)...)
	if err != nil {
		return Revision{}, err
	}
	if status != "" {
		version += "-dirty"
	}
	return Revision{Commit: commit, Version: version, Dirty: status != ""}, nil
}

// buildOrReuse returns the image already tagged tags[0] for a clean
// commit when its labels name the same revision, version and source tree
// (LabelTree), else makes it with r from rev's tree (TreeOf): the files
// git tracks, never the directory as it is. A build is not reproducible
// byte for byte (the image config carries a creation time), so reusing is
// what makes a second deploy of a commit change nothing. A dirty checkout
// always builds.
func (b *Builder) buildOrReuse(ctx context.Context, dir string, rev Revision, tags []string, r recipe) (string, error) {
	src, err := TreeOf(ctx, dir, rev)
	if err != nil {
		return "", err
	}
	if !b.Rebuild && !rev.Dirty && src.ID != "" && os.Getenv("SLIPWAY_REBUILD") == "" {
		info, err := b.Engine.ImageInspect(ctx, tags[0])
		if err == nil && info.Config != nil &&
			info.Config.Labels["org.opencontainers.image.revision"] == rev.Commit &&
			info.Config.Labels["org.opencontainers.image.version"] == rev.Version &&
			info.Config.Labels[LabelTree] == src.ID {
			fmt.Fprintf(b.logw(), "build: reusing %s (%s), already built from commit %s\n", tags[0], info.ID[:19], naming.ShortCommit(rev.Commit))
			return info.ID, image.Tag(ctx, b.Engine, info.ID, tags[1:]...)
		}
	}
	fmt.Fprintf(b.logw(), "build: %s (commit %s, version %s) %s\n", tags[0], naming.ShortCommit(rev.Commit), rev.Version, r.what)
	return b.buildFrom(ctx, src, r, rev.Dirty)
}

// buildFrom makes the image with r from src's files (Tree.Open) and
// labels it with src's tree unless dirty.
func (b *Builder) buildFrom(ctx context.Context, src Tree, r recipe, dirty bool) (id string, err error) {
	if src.ID == "" {
		fmt.Fprintf(b.logw(), "build: %s is not in a git checkout: building the directory as it is\n", src.Dir)
		return r.make(ctx, src, src.Dir, nil)
	}
	dir, done, err := src.Open(ctx)
	if err != nil {
		return "", fmt.Errorf("build: %w", err)
	}
	defer func() {
		if doneErr := done(); doneErr != nil && err == nil {
			err = fmt.Errorf("build: release the files of tree %s: %w", src.ID, doneErr)
		}
	}()
	var labels map[string]string
	if !dirty { // a dirty image is never reused
		labels = map[string]string{LabelTree: src.ID}
	}
	return r.make(ctx, src, dir, labels)
}

// RemoveTag removes the app image's local tag (a preview's :pr-N or
// :branch-…, see naming.PreviewImageTag). The image stays while another
// tag (its :<sha7>) names it, and Docker deletes layers only when no other
// image uses them. A tag a container still uses is kept and said so; a
// tag that is not there is fine.
func (b *Builder) RemoveTag(ctx context.Context, tag string) error {
	ref := b.AppImage + ":" + tag
	_, err := b.Engine.ImageRemove(ctx, ref, dockerimage.RemoveOptions{PruneChildren: true})
	switch {
	case err == nil:
		fmt.Fprintf(b.logw(), "build: removed image tag %s (layers other images use are kept)\n", ref)
	case cerrdefs.IsNotFound(err):
	case cerrdefs.IsConflict(err):
		fmt.Fprintf(b.logw(), "build: keeping image tag %s: a container still uses it\n", ref)
	default:
		return fmt.Errorf("remove image tag %s: %w", ref, err)
	}
	return nil
}

func (b *Builder) revision(ctx context.Context) (Revision, error) {
	if b.Rev != nil {
		return b.Rev.marked(), nil
	}
	return Detect(ctx, b.ModuleDir)
}

func (b *Builder) logw() io.Writer {
	if b.Log == nil {
		return io.Discard
	}
	return b.Log
}
