package target

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	dockerimage "github.com/docker/docker/api/types/image"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/testenv"
	"github.com/slipway/slipway/internal/testenv/registrytest"
)

// On aws, a preview is pushed to the shared stack's ECR repository with an
// ECR login (moto's), through the registry mirror, and deployed by the
// repository URI at the digest: built here, or loaded from a fork's image
// archive saved under SLIPWAY_APP_IMAGE.
func TestECRPushOfABuildAndOfAForkArchive(t *testing.T) {
	cli := testenv.Docker(t)
	ctx := context.Background()
	api := ecr.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(testenv.Moto(t)),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
	repo, err := api.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("forkrepo")})
	if err != nil {
		t.Fatal(err)
	}
	uri := aws.ToString(repo.Repository.RepositoryUri)
	reg := registrytest.StartWithLogin(t, "AWS", "123456789012-auth-token")
	rev := &build.Revision{Commit: "f0c0000000000000000000000000000000000abc", Version: "fork-test"}
	local := &build.Builder{Engine: cli, ModuleDir: testenv.ModuleDir(t), AppImage: "slipway-test/forkapp", Rev: rev, Rebuild: true, Archiver: cli}
	t.Cleanup(func() {
		for _, ref := range []string{"slipway-test/forkapp:f0c0000", "slipway-test/forkapp:build", "forkrepo:f0c0000", "forkrepo:pr-3", "forkrepo:pr-4",
			reg.Host + "/forkrepo:f0c0000", reg.Host + "/forkrepo:pr-3", reg.Host + "/forkrepo:pr-4"} {
			_, _ = cli.ImageRemove(ctx, ref, dockerimage.RemoveOptions{})
		}
	})
	built, err := local.Build(ctx, "build")
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "image.tar")
	if err := build.Save(ctx, cli, local.AppImage, built, archive); err != nil {
		t.Fatal(err)
	}
	e := &ecrBuilder{b: local, api: api, mirror: reg.Host,
		repo: func(context.Context, string) (string, string, error) { return uri, "forkrepo", nil }}
	for _, tc := range []struct{ purpose, archive string }{{"pr-3", ""}, {"pr-4", archive}} {
		local.LoadArchive = tc.archive
		img, err := e.Build(ctx, tc.purpose)
		if err != nil {
			t.Fatalf("%s (archive %q): %v", tc.purpose, tc.archive, err)
		}
		if !strings.HasPrefix(img.Ref, uri+"@sha256:") || img.Commit != rev.Commit {
			t.Errorf("%s: deploy reference %s (commit %s), want %s@sha256:… of %s", tc.purpose, img.Ref, img.Commit, uri, rev.Commit)
		}
		if got, _, _ := reg.Manifest(t, http.MethodGet, "forkrepo", tc.purpose); got != img.Digest {
			t.Errorf("%s: the mirror has digest %q, the deploy uses %q", tc.purpose, got, img.Digest)
		}
	}
	if local.Registry != "" || local.AppImage != "slipway-test/forkapp" {
		t.Errorf("the session's builder was changed: registry %q, image %q", local.Registry, local.AppImage)
	}
}
