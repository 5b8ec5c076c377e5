// Package image builds container images through the Docker Engine API and
// pushes them by digest.
//
// BuildDockerfile builds any Dockerfile from a directory with BuildKit, as
// the docker CLI does: a session (github.com/moby/buildkit/session) serves
// the context and the Dockerfile to the engine through filesync, so only
// what the build reads is sent, .dockerignore applies, and the engine's
// layer cache and RUN --mount=type=cache caches last between builds. An
// engine without BuildKit gets a tar of the context and its classic
// builder. A Go program takes a shorter way (BuildGo): CompileStatic links
// it into a static linux binary here, and a Dockerfile only copies it in.
// Build sends a ready tar context to the classic builder. Push sends one
// tag to a registry with explicit credentials and returns the manifest
// digest, which ByDigest turns into the reference deployments should use.
//
// Progress from the daemon is written one line per event or build step,
// never redrawn, so CI logs stay readable.
package image

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// Engine is the part of the Docker client this package uses.
// *client.Client satisfies it; it must negotiate the API version
// (client.WithAPIVersionNegotiation) to talk to older daemons.
type Engine interface {
	ImageBuild(ctx context.Context, buildContext io.Reader, options build.ImageBuildOptions) (build.ImageBuildResponse, error)
	ImagePush(ctx context.Context, ref string, options image.PushOptions) (io.ReadCloser, error)
	ImageTag(ctx context.Context, source, target string) error
	ImageInspect(ctx context.Context, imageID string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
	ImageRemove(ctx context.Context, imageID string, options image.RemoveOptions) ([]image.DeleteResponse, error)
	// Ping says the engine's API version and whether BuildKit is off;
	// DialHijack carries a BuildKit session (/session).
	Ping(ctx context.Context) (types.Ping, error)
	DialHijack(ctx context.Context, url, proto string, meta map[string][]string) (net.Conn, error)
}

var _ Engine = (*client.Client)(nil)

// Tag gives the local image source (an ID or reference) each of targets.
func Tag(ctx context.Context, e Engine, source string, targets ...string) error {
	for _, t := range targets {
		if err := e.ImageTag(ctx, source, t); err != nil {
			return fmt.Errorf("tag image %s as %s: %w", source, t, err)
		}
	}
	return nil
}

// Labels returns the labels of the local image ref (an ID or reference).
func Labels(ctx context.Context, e Engine, ref string) (map[string]string, error) {
	info, err := e.ImageInspect(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	if info.Config == nil {
		return map[string]string{}, nil
	}
	return info.Config.Labels, nil
}

// closeInto closes c and, if that fails and *err is nil, reports it there.
func closeInto(err *error, c io.Closer, what string) {
	if cerr := c.Close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("close %s: %w", what, cerr)
	}
}

// orDiscard returns w, or io.Discard when w is nil.
func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
