package build

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/slipway/slipway/internal/deploy"
	slimage "github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/naming"
)

// Archiver moves images in and out of `docker save` archives: how a fork's
// image, built by a job with no secrets, reaches the job that deploys it.
type Archiver interface {
	ImageSave(ctx context.Context, refs []string, opts ...client.ImageSaveOption) (io.ReadCloser, error)
	ImageLoad(ctx context.Context, in io.Reader, opts ...client.ImageLoadOption) (image.LoadResponse, error)
	ImageInspect(ctx context.Context, ref string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
}

// Save writes the app image of img (with its commit tag) to path, through a
// temporary file renamed into place.
func Save(ctx context.Context, a Archiver, appImage string, img deploy.Image, path string) (err error) {
	s7, err := naming.CommitTag(img.Commit, img.IsDirty())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save image archive %s: %w", path, err)
	}
	rc, err := a.ImageSave(ctx, []string{appImage + ":" + s7})
	if err != nil {
		return fmt.Errorf("save image %s:%s: %w", appImage, s7, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".image-*.tar")
	if err != nil {
		return fmt.Errorf("save image archive %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, rc); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write image archive %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write image archive %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write image archive %s: %w", path, err)
	}
	return nil
}

// Load loads an archive written by Save and returns the image of commit,
// refusing an archive that holds no image of that exact commit.
func Load(ctx context.Context, a Archiver, appImage, commit, path string) (deploy.Image, error) {
	s7, err := naming.ShortSHA(commit)
	if err != nil {
		return deploy.Image{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return deploy.Image{}, fmt.Errorf("open image archive (SLIPWAY_IMAGE_ARCHIVE): %w", err)
	}
	defer f.Close()
	resp, err := a.ImageLoad(ctx, f)
	if err != nil {
		return deploy.Image{}, fmt.Errorf("load image archive %s: %w", path, err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		_ = resp.Body.Close()
		return deploy.Image{}, fmt.Errorf("load image archive %s: %w", path, err)
	}
	if err := resp.Body.Close(); err != nil {
		return deploy.Image{}, fmt.Errorf("load image archive %s: %w", path, err)
	}
	ref := appImage + ":" + s7
	info, err := a.ImageInspect(ctx, ref)
	if err != nil {
		return deploy.Image{}, fmt.Errorf("find %s in image archive %s (was it built from commit %s?): %w", ref, path, s7, err)
	}
	var labels map[string]string
	if info.Config != nil {
		labels = info.Config.Labels
	}
	if got := labels["org.opencontainers.image.revision"]; got != commit {
		return deploy.Image{}, fmt.Errorf("image archive %s: %s was built from commit %q, not %s: refusing to deploy it", path, ref, got, commit)
	}
	return deploy.Image{Ref: info.ID, Digest: info.ID, Commit: commit, Version: labels["org.opencontainers.image.version"],
		Platform: slimage.PlatformOf(info)}, nil
}
