package image

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/image"
)

// Platform returns the OS and architecture of the local image ref (see
// PlatformOf). An image built on an arm64 laptop runs on arm64 only.
func Platform(ctx context.Context, e Engine, ref string) (string, error) {
	info, err := e.ImageInspect(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("inspect image %s: %w", ref, err)
	}
	p := PlatformOf(info)
	if p == "" {
		return "", fmt.Errorf("inspect image %s: the engine reports no OS or architecture", ref)
	}
	return p, nil
}

// PlatformOf is what the inspected image runs on, "os/arch" or
// "os/arch/variant" ("linux/amd64", "linux/arm64/v8"); "" when the engine
// does not say.
func PlatformOf(info image.InspectResponse) string {
	if info.Os == "" || info.Architecture == "" {
		return ""
	}
	p := info.Os + "/" + info.Architecture
	if info.Variant != "" {
		p += "/" + info.Variant
	}
	return p
}
