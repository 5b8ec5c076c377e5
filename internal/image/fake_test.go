package image_test

import (
	"context"
	"io"
	"net"
	"os"
	"strings"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/build"
	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/slipway/slipway/internal/image"
)

// fakeEngine replays a recorded daemon stream and remembers what it was
// asked, for tests that need no daemon.
type fakeEngine struct {
	stream string     // file whose bytes are the response body
	ping   types.Ping // what Ping answers

	buildOptions build.ImageBuildOptions
	buildContext []byte
	pushedRef    string
	pushOptions  dockerimage.PushOptions
}

var _ image.Engine = (*fakeEngine)(nil)

func (f *fakeEngine) body() (io.ReadCloser, error) {
	if f.stream == "" {
		return io.NopCloser(strings.NewReader("")), nil
	}
	return os.Open(f.stream)
}

func (f *fakeEngine) ImageBuild(_ context.Context, c io.Reader, o build.ImageBuildOptions) (build.ImageBuildResponse, error) {
	f.buildOptions = o
	if c != nil { // a BuildKit build sends its context through the session
		b, err := io.ReadAll(c)
		if err != nil {
			return build.ImageBuildResponse{}, err
		}
		f.buildContext = b
	}
	body, err := f.body()
	return build.ImageBuildResponse{Body: body}, err
}

func (f *fakeEngine) ImagePush(_ context.Context, ref string, o dockerimage.PushOptions) (io.ReadCloser, error) {
	f.pushedRef, f.pushOptions = ref, o
	return f.body()
}

func (f *fakeEngine) ImageTag(context.Context, string, string) error { return nil }

func (f *fakeEngine) ImageRemove(context.Context, string, dockerimage.RemoveOptions) ([]dockerimage.DeleteResponse, error) {
	return nil, nil
}

func (f *fakeEngine) ImageInspect(context.Context, string, ...client.ImageInspectOption) (dockerimage.InspectResponse, error) {
	return dockerimage.InspectResponse{}, nil
}

func (f *fakeEngine) Ping(context.Context) (types.Ping, error) { return f.ping, nil }

// DialHijack gives a BuildKit session a connection nobody calls through:
// the recorded build needs no files.
func (f *fakeEngine) DialHijack(context.Context, string, string, map[string][]string) (net.Conn, error) {
	conn, _ := net.Pipe()
	return conn, nil
}
