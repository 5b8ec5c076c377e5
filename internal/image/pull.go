package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// Puller is the part of the Docker client Pull uses.
type Puller interface {
	ImagePull(ctx context.Context, ref string, o dockerimage.PullOptions) (io.ReadCloser, error)
}

// Importer is the part of the Docker client Import uses.
type Importer interface {
	ImageImport(ctx context.Context, source dockerimage.ImportSource, ref string, options dockerimage.ImportOptions) (io.ReadCloser, error)
}

var (
	_ Puller   = (*client.Client)(nil)
	_ Importer = (*client.Client)(nil)
)

// Pull pulls image ref anonymously (an official image needs no login),
// writing the engine's progress to progress one line per layer and status,
// never once per chunk. An error says what the engine said.
func Pull(ctx context.Context, d Puller, ref string, progress io.Writer) (err error) {
	if progress == nil {
		progress = io.Discard
	}
	op := "pull " + ref
	body, err := d.ImagePull(ctx, ref, dockerimage.PullOptions{})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer func() {
		if cerr := body.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("%s: %w", op, cerr)
		}
	}()
	return decodeStream(body, op, newPushProgress(progress).show)
}

// Import sends the tarball r to the engine as a new image, untagged, and
// returns its ID; op names the import in errors.
func Import(ctx context.Context, e Importer, r io.Reader, op string) (id string, err error) {
	body, err := e.ImageImport(ctx, dockerimage.ImportSource{Source: r, SourceName: "-"}, "", dockerimage.ImportOptions{})
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	defer func() { _ = body.Close() }() // read to the end below
	err = decodeStream(body, op, func(m message) error {
		if strings.HasPrefix(m.Status, "sha256:") {
			id = m.Status
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", errors.New(op + ": the engine reported no image ID")
	}
	return id, nil
}
