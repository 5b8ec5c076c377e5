package build_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	dockerimage "github.com/docker/docker/api/types/image"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/testenv"
	"github.com/slipway/slipway/internal/testenv/registrytest"
)

// With a registry configured, the app image is pushed under :<sha7> and
// :<purpose> and deployed by digest, the digest the registry itself reports.
func TestBuildWithARegistryDeploysByTheRegistrysDigest(t *testing.T) {
	cli := testenv.Docker(t)
	reg := registrytest.Start(t)
	ctx := context.Background()
	const commit = "abc0000000000000000000000000000000000def"
	b := &build.Builder{
		Engine: cli, ModuleDir: testenv.ModuleDir(t), AppImage: "slipway-test/pushed", Registry: reg.Host + "/team",
		Auth: image.Auth{Username: reg.User, Password: reg.Password, ServerAddress: reg.Host},
		Rev:  &build.Revision{Commit: commit, Version: "push-test"}, Rebuild: true,
	}
	img, err := b.Build(ctx, "pr-3")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, ref := range []string{"slipway-test/pushed:abc0000", "slipway-test/pushed:pr-3", reg.Host + "/team/slipway-test/pushed:abc0000", reg.Host + "/team/slipway-test/pushed:pr-3"} {
			_, _ = cli.ImageRemove(ctx, ref, dockerimage.RemoveOptions{})
		}
	})
	wantPrefix := reg.Host + "/team/slipway-test/pushed@sha256:"
	if !strings.HasPrefix(img.Ref, wantPrefix) || img.Digest != strings.TrimPrefix(img.Ref, reg.Host+"/team/slipway-test/pushed@") {
		t.Fatalf("image %+v, want a reference %s…", img, wantPrefix)
	}
	for _, tag := range []string{"abc0000", "pr-3"} {
		got, sum, _ := reg.Manifest(t, http.MethodGet, "team/slipway-test/pushed", tag)
		if got != img.Digest || sum != img.Digest {
			t.Fatalf("registry says %s:%s is %s (body %s), the build said %s", "pushed", tag, got, sum, img.Digest)
		}
	}
	if _, err := cli.ImageInspect(ctx, img.Ref); err != nil {
		t.Fatalf("the digest reference must be runnable from the local engine: %v", err)
	}
}
