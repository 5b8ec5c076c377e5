package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"

	"github.com/docker/docker/api/types/build"
	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/filesync"
	"github.com/tonistiigi/fsutil"
	"google.golang.org/protobuf/proto"
)

// The aux messages of a BuildKit build stream: progress (a
// control.StatusResponse, protobuf in base64) and the image built.
const (
	auxTrace   = "moby.buildkit.trace"
	auxImageID = "moby.image.id"
)

// buildKit builds d with BuildKit: a session serves the context (without
// what excludes names) and the Dockerfile's directory to the engine as
// the docker CLI's did, the request carries no body, and the build
// stream's trace becomes one progress line per step.
func buildKit(ctx context.Context, e Engine, d Dockerfile, excludes []string, progress io.Writer) (id string, err error) {
	src, err := contextFS(d.Context, excludes)
	if err != nil {
		return "", err
	}
	dockerfileDir, err := fsutil.NewFS(filepath.Dir(d.Dockerfile))
	if err != nil {
		return "", fmt.Errorf("build image: open the Dockerfile's directory: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := session.NewSession(ctx, sharedKey(d))
	if err != nil {
		return "", fmt.Errorf("build image: start a BuildKit session: %w", err)
	}
	s.Allow(filesync.NewFSSyncProvider(filesync.StaticDirSource{"context": src, "dockerfile": dockerfileDir}))
	ran := make(chan error, 1)
	go func() {
		ran <- s.Run(ctx, func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
			return e.DialHijack(ctx, "/session", proto, meta)
		})
	}()
	defer func() {
		// The session's own errors matter only when the build failed:
		// "failed to dial gRPC" says why the engine saw no files.
		cancel() // first: Close waits for a dial in progress
		closeErr := s.Close()
		if runErr := <-ran; err != nil && runErr != nil && !errors.Is(runErr, context.Canceled) {
			err = errors.Join(err, fmt.Errorf("build image: BuildKit session: %w", runErr))
		}
		if err == nil && closeErr != nil {
			err = fmt.Errorf("build image: close the BuildKit session: %w", closeErr)
		}
	}()
	resp, err := e.ImageBuild(ctx, nil, build.ImageBuildOptions{
		Version:       build.BuilderBuildKit,
		SessionID:     s.ID(),
		RemoteContext: "client-session",
		Dockerfile:    filepath.Base(d.Dockerfile),
		Target:        d.Target,
		BuildArgs:     argPointers(d.BuildArgs),
		Labels:        d.Labels,
		Tags:          d.Tags,
	})
	if err != nil {
		return "", fmt.Errorf("build image: %w", err)
	}
	defer closeInto(&err, resp.Body, "build stream")
	return readBuildKitStream(resp.Body, progress)
}

// readBuildKitStream renders a BuildKit build stream on progress and
// returns the image ID it reports.
func readBuildKitStream(r io.Reader, progress io.Writer) (id string, err error) {
	t := newTrace(progress)
	err = decodeStream(r, "build image", func(m message) error {
		switch {
		case m.ID == auxTrace && len(m.Aux) > 0:
			var dt []byte // the protobuf bytes, base64 in the JSON
			if err := json.Unmarshal(m.Aux, &dt); err != nil {
				return fmt.Errorf("build image: decode progress: %w", err)
			}
			var status controlapi.StatusResponse
			if err := proto.Unmarshal(dt, &status); err != nil {
				return fmt.Errorf("build image: decode progress: %w", err)
			}
			return t.show(&status)
		case m.ID == auxImageID && len(m.Aux) > 0:
			var res build.Result
			if err := json.Unmarshal(m.Aux, &res); err != nil {
				return fmt.Errorf("build image: decode result %s: %w", m.Aux, err)
			}
			id = res.ID
		case m.Stream != "":
			return t.lines.write(m.Stream)
		}
		return nil
	})
	if err != nil {
		if perr := t.failed(); perr != nil {
			err = errors.Join(err, perr)
		}
		return "", err
	}
	if err := t.lines.flush(); err != nil {
		return "", err
	}
	if id == "" {
		return "", errors.New("build image: the daemon reported no image ID")
	}
	return id, nil
}

// sharedKey names d's context for the engine's cache of it (SyncKey).
func sharedKey(d Dockerfile) string {
	key := d.SyncKey
	if key == "" {
		abs, err := filepath.Abs(d.Context)
		if err != nil {
			abs = d.Context
		}
		key = "dir:" + abs
	}
	sum := sha256.Sum256([]byte("slipway:" + key))
	return hex.EncodeToString(sum[:])
}

func argPointers(args map[string]string) map[string]*string {
	out := make(map[string]*string, len(args))
	for k, v := range args {
		out[k] = &v
	}
	return out
}
