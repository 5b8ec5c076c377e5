package build_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	dockerimage "github.com/docker/docker/api/types/image"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/testenv"
)

// Removing a preview's tag removes that tag only: the image stays under its
// commit tag, and removing it again is fine.
func TestRemoveTagRemovesOnlyThePreviewsTag(t *testing.T) {
	cli := testenv.Docker(t)
	ctx := context.Background()
	const repo = "slipway-test/untag"
	var log bytes.Buffer
	b := &build.Builder{Engine: cli, ModuleDir: testenv.ModuleDir(t), AppImage: repo, Log: &log,
		Rev: &build.Revision{Commit: "7a90000000000000000000000000000000000abc", Version: "untag-test"}}
	img, err := b.Build(ctx, "pr-9")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, tag := range []string{":7a90000", ":pr-9"} {
			_, _ = cli.ImageRemove(ctx, repo+tag, dockerimage.RemoveOptions{})
		}
	})
	for i := 1; i <= 2; i++ {
		if err := b.RemoveTag(ctx, "pr-9"); err != nil {
			t.Fatalf("RemoveTag #%d: %v", i, err)
		}
	}
	if _, err := cli.ImageInspect(ctx, repo+":pr-9"); err == nil {
		t.Errorf("%s:pr-9 is still there", repo)
	}
	info, err := cli.ImageInspect(ctx, repo+":7a90000")
	if err != nil || info.ID != img.Ref {
		t.Errorf("the image must stay under its commit tag: %v", err)
	}
	if !strings.Contains(log.String(), "removed image tag "+repo+":pr-9") {
		t.Errorf("RemoveTag did not say what it removed:\n%s", log.String())
	}
}
