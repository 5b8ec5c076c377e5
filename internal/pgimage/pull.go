package pgimage

import (
	"context"
	"fmt"
	"io"

	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// Puller is the part of the Docker client Pull uses.
type Puller interface {
	ImagePull(ctx context.Context, ref string, o dockerimage.PullOptions) (io.ReadCloser, error)
}

var _ Puller = (*client.Client)(nil)

// Pull pulls image ref anonymously (the official image needs no login),
// writing the engine's progress to progress one line per layer and status,
// never once per chunk. An error says what the engine said.
func Pull(ctx context.Context, d Puller, ref string, progress io.Writer) (err error) {
	if progress == nil {
		progress = io.Discard
	}
	body, err := d.ImagePull(ctx, ref, dockerimage.PullOptions{})
	if err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	defer func() {
		if cerr := body.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("pull %s: %w", ref, cerr)
		}
	}()
	p := &progressLines{w: progress, last: map[string]string{}}
	if err := decodeStream(body, p.show); err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	return nil
}
