package build_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/testenv"
)

// A build from a working tree with uncommitted changes is never labelled as
// the clean commit: not in its tags, not in its OCI labels, not on the page
// or /version of the running app.
func TestADirtyBuildIsNeverLabelledAsTheCleanCommit(t *testing.T) {
	cli := testenv.Docker(t)
	ctx := context.Background()
	const repo, commit = "slipway-test/dirty", "d1e7000000000000000000000000000000000abc"
	b := &build.Builder{Engine: cli, ModuleDir: testenv.ModuleDir(t), AppImage: repo, Log: testenv.Log(t),
		Rev: &build.Revision{Commit: commit, Version: "v1", Dirty: true}}
	img, err := b.Build(ctx, "pr-9")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, tag := range []string{":d1e7000-dirty", ":pr-9"} {
			_, _ = cli.ImageRemove(ctx, repo+tag, dockerimage.RemoveOptions{})
		}
	})
	if img.Version != "v1-dirty" || !img.IsDirty() {
		t.Errorf("image version %q, want v1-dirty", img.Version)
	}
	if _, err := cli.ImageInspect(ctx, repo+":d1e7000"); err == nil {
		t.Errorf("%s:d1e7000 exists: a dirty build took the clean commit's tag", repo)
	}
	labels, err := image.Labels(ctx, cli, repo+":d1e7000-dirty")
	if err != nil {
		t.Fatal(err)
	}
	if got := labels["org.opencontainers.image.revision"]; got != commit+"-dirty" {
		t.Errorf("revision label %q, want %s-dirty", got, commit)
	}
	if labels[image.LabelDirty] != "true" || labels["org.opencontainers.image.version"] != "v1-dirty" {
		t.Errorf("labels %v, want %s=true and version v1-dirty", labels, image.LabelDirty)
	}

	base := runImage(t, cli, img.Ref)
	var v struct {
		Version, Commit string
		Dirty           bool
	}
	if err := json.Unmarshal([]byte(httpGet(t, base+"/version")), &v); err != nil {
		t.Fatal(err)
	}
	if !v.Dirty || v.Version != "v1-dirty" || v.Commit != commit {
		t.Errorf("/version %+v, want dirty, version v1-dirty, commit %s", v, commit)
	}
	if page := httpGet(t, base+"/"); !strings.Contains(page, `id="dirty"`) {
		t.Errorf("the page does not say the build is dirty:\n%s", page)
	}
}

// Detect marks a checkout with uncommitted changes to tracked files dirty,
// in the flag and the version; untracked files change nothing.
func TestDetectMarksUncommittedChanges(t *testing.T) {
	r := newRepo(t)
	t.Setenv("SLIPWAY_COMMIT", "")
	t.Setenv("SLIPWAY_VERSION", "v7")
	r.write("a.txt", "one")
	r.git("add", "a.txt")
	r.git("commit", "-q", "-m", "one")
	r.write("untracked.txt", "x")
	rev, err := build.Detect(t.Context(), r.dir)
	if err != nil || rev.Dirty || rev.Version != "v7" {
		t.Fatalf("clean checkout with an untracked file: %+v %v, want clean v7", rev, err)
	}
	r.write("a.txt", "two")
	rev, err = build.Detect(t.Context(), r.dir)
	if err != nil || !rev.Dirty || rev.Version != "v7-dirty" {
		t.Fatalf("checkout with a changed file: %+v %v, want dirty v7-dirty", rev, err)
	}
}

// runImage starts ref with its port published on loopback and returns the
// app's base URL once /healthz answers.
func runImage(t *testing.T, cli *client.Client, ref string) string {
	t.Helper()
	ctx := context.Background()
	resp, err := cli.ContainerCreate(ctx,
		&container.Config{Image: ref, ExposedPorts: nat.PortSet{"8080/tcp": {}}},
		&container.HostConfig{PortBindings: nat.PortMap{"8080/tcp": {{HostIP: "127.0.0.1", HostPort: "0"}}}},
		nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.ContainerRemove(ctx, resp.ID, container.RemoveOptions{Force: true}) })
	if err := cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	info, err := cli.ContainerInspect(ctx, resp.ID)
	if err != nil {
		t.Fatal(err)
	}
	bound := info.NetworkSettings.Ports["8080/tcp"]
	if len(bound) == 0 {
		t.Fatalf("port 8080 of %s is not published", ref)
	}
	base := "http://127.0.0.1:" + bound[0].HostPort
	c := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r, err := c.Get(base + "/healthz")
		if err == nil {
			_ = r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer /healthz within 20s: %v", ref, err)
		}
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, body)
	}
	return string(body)
}
