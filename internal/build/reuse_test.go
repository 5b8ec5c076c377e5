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

// A clean commit is built once: a second deploy reuses the image, which is
// what makes re-running a deploy change nothing.
func TestImageOfACleanCommitIsReused(t *testing.T) {
	cli := testenv.Docker(t)
	ctx := context.Background()
	repo := "slipway-test/reuse"
	rev := &build.Revision{Commit: "dead0000000000000000000000000000000000be", Version: "reuse-test"}
	var log bytes.Buffer
	b := &build.Builder{Engine: cli, ModuleDir: testenv.ModuleDir(t), AppImage: repo, Rev: rev, Rebuild: true, Log: &log}
	first, err := b.Build(ctx, "pr-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, tag := range []string{":dead000", ":pr-1", ":pr-2"} {
			_, _ = cli.ImageRemove(ctx, repo+tag, dockerimage.RemoveOptions{})
		}
	})
	// Its schema labels come from the app's own `schema` output (the
	// Dockerfile's defaults could be stale): previews skip a migrate run on
	// the strength of the head label.
	info, err := cli.ImageInspect(ctx, first.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if l := info.Config.Labels; l["dev.slipway.schema.head"] != "3" || l["dev.slipway.schema.min"] != "2" || l["dev.slipway.schema.contracts"] != "3:00003_drop_visits.sql" {
		t.Errorf("schema labels %v, want head 3, min 2, contracts 3:00003_drop_visits.sql", l)
	}
	b.Rebuild = false
	log.Reset()
	second, err := b.Build(ctx, "pr-2")
	if err != nil {
		t.Fatal(err)
	}
	if second.Ref != first.Ref || !strings.Contains(log.String(), "reusing") {
		t.Fatalf("second build of the same clean commit: %s vs %s; log:\n%s", second.Ref, first.Ref, log.String())
	}
	if _, err := cli.ImageInspect(ctx, repo+":pr-2"); err != nil {
		t.Fatalf("the reused image should get the new purpose tag: %v", err)
	}
	b.Rev = &build.Revision{Commit: rev.Commit, Version: "reuse-test-dirty"}
	log.Reset()
	if _, err := b.Build(ctx, "pr-2"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "reusing") {
		t.Fatalf("a dirty checkout must be built, not reused:\n%s", log.String())
	}
}
