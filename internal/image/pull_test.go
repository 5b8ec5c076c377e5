package image_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	dockerimage "github.com/docker/docker/api/types/image"

	"github.com/slipway/slipway/internal/image"
)

// puller answers ImagePull with a canned stream, or an error.
type puller struct {
	stream string
	err    error
}

func (p puller) ImagePull(context.Context, string, dockerimage.PullOptions) (io.ReadCloser, error) {
	if p.err != nil {
		return nil, p.err
	}
	return io.NopCloser(strings.NewReader(p.stream)), nil
}

// A pull prints one line per layer and status, however many progress
// messages the engine sends while a layer downloads or extracts.
func TestPullPrintsOneLinePerEvent(t *testing.T) {
	stream := `{"status":"Pulling from library/postgres","id":"17"}
{"status":"Pulling fs layer","id":"a1"}
{"status":"Pulling fs layer","id":"b2"}
{"status":"Downloading","progressDetail":{"current":1,"total":100},"progress":"[>   ]","id":"a1"}
{"status":"Downloading","progressDetail":{"current":50,"total":100},"progress":"[==> ]","id":"a1"}
{"status":"Downloading","progressDetail":{"current":99,"total":100},"progress":"[===>]","id":"a1"}
{"status":"Download complete","id":"a1"}
{"status":"Extracting","progressDetail":{"current":1,"total":100},"id":"a1"}
{"status":"Extracting","progressDetail":{"current":100,"total":100},"id":"a1"}
{"status":"Pull complete","id":"a1"}
{"status":"Already exists","id":"b2"}
{"status":"Digest: sha256:0123"}
{"status":"Status: Downloaded newer image for postgres:17"}
`
	var out strings.Builder
	if err := image.Pull(context.Background(), puller{stream: stream}, "postgres:17", &out); err != nil {
		t.Fatal(err)
	}
	want := `17: Pulling from library/postgres
a1: Pulling fs layer
b2: Pulling fs layer
a1: Downloading
a1: Download complete
a1: Extracting
a1: Pull complete
b2: Already exists
Digest: sha256:0123
Status: Downloaded newer image for postgres:17
`
	if out.String() != want {
		t.Errorf("progress:\n%s\nwant:\n%s", out.String(), want)
	}
}

// A pull that the engine refuses, at once or in its stream, fails with the
// engine's words.
func TestPullFailsWithTheEnginesReason(t *testing.T) {
	for name, p := range map[string]puller{
		"refused at once": {err: errors.New("Error response from daemon: manifest unknown")},
		"refused midway":  {stream: `{"status":"Pulling fs layer","id":"a1"}` + "\n" + `{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}` + "\n"},
	} {
		t.Run(name, func(t *testing.T) {
			err := image.Pull(context.Background(), p, "postgres:17", io.Discard)
			if err == nil || !strings.Contains(err.Error(), "pull postgres:17") || !strings.Contains(err.Error(), "manifest unknown") {
				t.Errorf("Pull = %v, want an error naming the image and the engine's reason", err)
			}
		})
	}
}
