package build_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	dockerimage "github.com/docker/docker/api/types/image"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/testenv"
)

// A fork's image travels from the build job to the deploy job as an
// archive; the deploy job takes it only for the exact commit it was told.
func TestImageArchiveRoundTripOnlyForTheSameCommit(t *testing.T) {
	cli := testenv.Docker(t)
	ctx := context.Background()
	const commit = "cafe0000000000000000000000000000000000ff"
	repo := "slipway-test/archive"
	b := &build.Builder{Engine: cli, Archiver: cli, ModuleDir: testenv.ModuleDir(t), AppImage: repo, Rev: &build.Revision{Commit: commit, Version: "archive-test"}, Rebuild: true}
	img, err := b.Build(ctx, "pr-9")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out", "image.tar")
	if err := build.Save(ctx, cli, repo, img, path); err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{repo + ":cafe000", repo + ":pr-9"} {
		if _, err := cli.ImageRemove(ctx, tag, dockerimage.RemoveOptions{}); err != nil {
			t.Fatalf("untag %s: %v", tag, err)
		}
	}
	t.Cleanup(func() { _, _ = cli.ImageRemove(ctx, repo+":cafe000", dockerimage.RemoveOptions{}) })

	got, err := build.Load(ctx, cli, repo, commit, path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Ref != img.Ref || got.Commit != commit || got.Version != "archive-test" {
		t.Fatalf("loaded %+v, built %+v", got, img)
	}
	_, err = build.Load(ctx, cli, repo, "beef000000000000000000000000000000000000", path)
	if err == nil || !strings.Contains(err.Error(), "beef000") {
		t.Fatalf("an archive of another commit was accepted: %v", err)
	}
	if _, err := build.Load(ctx, cli, repo, commit, filepath.Join(t.TempDir(), "missing.tar")); err == nil || !strings.Contains(err.Error(), "SLIPWAY_IMAGE_ARCHIVE") {
		t.Fatalf("a missing archive should name the variable: %v", err)
	}
}
