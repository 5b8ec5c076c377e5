package local_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/local"
)

// After previews come and go, local:down says what it removed in plain
// words and leaves none of the app's image tags, while an image another
// repository shares keeps its layers.
func TestDownRemovesTheAppsImageTagsAndSaysSoInWords(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 9}); err != nil {
		t.Fatal(err)
	}
	repo := "slipway-test/" + e.app
	other := repo + "-other:keep"
	for _, tag := range []string{repo + ":aaaaaaa", repo + ":pr-9", repo + ":branch-feature-x", other} {
		if err := e.cli.ImageTag(ctx, images.appA.Ref, tag); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _, _ = e.cli.ImageRemove(context.Background(), other, image.RemoveOptions{}) })

	var log bytes.Buffer
	if err := local.Down(ctx, e.cli, e.app, false, &log); err != nil {
		t.Fatal(err)
	}
	if err := local.RemoveImages(ctx, e.cli, repo, &log); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 networks,", "1 volume of", "3 image tags of " + repo} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("down said:\n%s\nwant %q", log.String(), want)
		}
	}
	left, err := e.cli.ImageList(ctx, image.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kept := false
	for _, im := range left {
		for _, tag := range im.RepoTags {
			if strings.HasPrefix(tag, repo+":") {
				t.Errorf("image tag %s survived local:down", tag)
			}
			kept = kept || tag == other
		}
	}
	if !kept {
		t.Errorf("%s, another repository's tag of the same image, was removed", other)
	}
}
