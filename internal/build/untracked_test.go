package build_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/testenv"
)

// What a user hit (issue 16): an untracked sample-app/zz_untracked.go that
// changes the version was compiled into the image of a clean commit, whose
// /version said clean, the release guard passed, and after the file was
// deleted the next deploys reused that image. Files git does not track,
// ignored or not, go into no build: the image is the commit's, clean as the
// release guard says, and reusing it later is right.
func TestUntrackedFilesGoIntoNoImage(t *testing.T) {
	cli := testenv.Docker(t)
	ctx := context.Background()
	r := sampleAppRepo(t)
	s7 := r.git("rev-parse", "--short=7", "HEAD")
	r.write("sample-app/zz_untracked.go", versionSuffix("-UNTRACKED-CODE"))
	r.write("sample-app/zz_ignored.go", versionSuffix("-IGNORED-CODE"))
	const repo = "slipway-test/untracked"
	var log bytes.Buffer
	b := &build.Builder{Engine: cli, ModuleDir: r.dir, AppImage: repo, Log: &log}
	first, err := b.Build(ctx, "pr-1")
	t.Cleanup(func() { removeTags(cli, repo, s7, "pr-1", "pr-2") })
	if err != nil {
		t.Fatal(err)
	}
	dirty, err := build.Dirty(ctx, r.dir)
	if err != nil {
		t.Fatal(err)
	}
	if dirty || first.IsDirty() {
		t.Errorf("untracked files made the build dirty (release guard %v, image %s): they are not built", dirty, first.Version)
	}
	if v := appVersion(t, cli, first.Ref); v.Version != s7 || v.Dirty {
		t.Errorf("/version %+v, want version %s, clean: an untracked file was built into the commit's image", v, s7)
	}
	labels, err := image.Labels(ctx, cli, first.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if tree := r.git("rev-parse", "HEAD^{tree}"); labels[build.LabelTree] != tree {
		t.Errorf("label %s=%q, want the commit's tree %s", build.LabelTree, labels[build.LabelTree], tree)
	}

	r.remove("sample-app/zz_untracked.go")
	log.Reset()
	second, err := b.Build(ctx, "pr-2")
	if err != nil {
		t.Fatal(err)
	}
	if second.Ref != first.Ref || !strings.Contains(log.String(), "reusing") {
		t.Errorf("the commit's image was not reused: %s, then %s; log:\n%s", first.Ref, second.Ref, log.String())
	}
}

// An image under a clean commit's tag that was not built from exactly the
// commit's tree (here: as an older Slipway built it, from the working tree
// with an untracked file) is never reused for the commit.
func TestATaintedImageUnderTheCleanTagIsNotReused(t *testing.T) {
	cli := testenv.Docker(t)
	ctx := context.Background()
	r := sampleAppRepo(t)
	commit, s7 := r.git("rev-parse", "HEAD"), r.git("rev-parse", "--short=7", "HEAD")
	const repo = "slipway-test/tainted"
	t.Cleanup(func() { removeTags(cli, repo, s7, "pr-1") })
	r.write("sample-app/zz_untracked.go", versionSuffix("-UNTRACKED-CODE"))
	if _, err := image.BuildGo(ctx, cli, image.GoImage{
		ModuleDir: r.dir, Package: "./sample-app", Dockerfile: filepath.Join(r.dir, "sample-app/Dockerfile"),
		Version: s7, Commit: commit, Source: build.Source, Tags: []string{repo + ":" + s7},
	}, testenv.Log(t)); err != nil {
		t.Fatal(err)
	}
	r.remove("sample-app/zz_untracked.go")

	var log bytes.Buffer
	b := &build.Builder{Engine: cli, ModuleDir: r.dir, AppImage: repo, Log: &log}
	img, err := b.Build(ctx, "pr-1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "reusing") {
		t.Errorf("the tainted image was reused for the clean commit:\n%s", log.String())
	}
	if v := appVersion(t, cli, img.Ref); v.Version != s7 || v.Dirty {
		t.Errorf("/version %+v, want version %s, clean", v, s7)
	}
}

// A dirty build takes the tracked files as they are, changes staged or
// not, and still no untracked file; the release guard says dirty too.
func TestADirtyBuildTakesTrackedChangesOnly(t *testing.T) {
	cli := testenv.Docker(t)
	ctx := context.Background()
	r := sampleAppRepo(t, "sample-app/zz_tracked.go", versionSuffix(""))
	s7 := r.git("rev-parse", "--short=7", "HEAD")
	r.write("sample-app/zz_tracked.go", versionSuffix("-CHANGED"))
	r.write("sample-app/zz_staged.go", versionSuffix("-STAGED"))
	r.git("add", "sample-app/zz_staged.go")
	r.write("sample-app/zz_untracked.go", versionSuffix("-UNTRACKED-CODE"))
	const repo = "slipway-test/dirty-tracked"
	b := &build.Builder{Engine: cli, ModuleDir: r.dir, AppImage: repo, Log: testenv.Log(t)}
	img, err := b.Build(ctx, "pr-1")
	t.Cleanup(func() { removeTags(cli, repo, s7+"-dirty", "pr-1") })
	if err != nil {
		t.Fatal(err)
	}
	if dirty, err := build.Dirty(ctx, r.dir); err != nil || !dirty {
		t.Errorf("release guard: dirty %v, %v; want dirty", dirty, err)
	}
	// Files are compiled in name order: zz_staged, zz_tracked, then
	// zz_untracked were it built.
	if v := appVersion(t, cli, img.Ref); v.Version != s7+"-dirty-STAGED-CHANGED" || !v.Dirty {
		t.Errorf("/version %+v, want %s-dirty-STAGED-CHANGED, dirty", v, s7)
	}
}

// sampleAppRepo is a git repository holding the sample app as the
// Slipway checkout tracks it, a .gitignore that ignores zz_ignored.go, and
// more files as name, body pairs, all committed.
func sampleAppRepo(t testing.TB, more ...string) *repo {
	t.Helper()
	t.Setenv("SLIPWAY_COMMIT", "")
	t.Setenv("SLIPWAY_VERSION", "")
	r := newRepo(t)
	r.copyTracked("go.mod", "go.sum", "sample-app")
	r.write(".gitignore", "zz_ignored.go\n")
	for i := 0; i+1 < len(more); i += 2 {
		r.write(more[i], more[i+1])
	}
	r.git("add", ".")
	r.git("commit", "-q", "-m", "sample app")
	return r
}

// versionSuffix is a sample-app source file that appends suffix to the
// version the build links in.
func versionSuffix(suffix string) string {
	return "package main\n\nfunc init() { version += \"" + suffix + "\" }\n"
}

type appVersionInfo struct {
	Version, Commit string
	Dirty           bool
}

// appVersion runs ref and returns what its /version says.
func appVersion(t *testing.T, cli *client.Client, ref string) appVersionInfo {
	t.Helper()
	var v appVersionInfo
	if err := json.Unmarshal([]byte(httpGet(t, runImage(t, cli, ref)+"/version")), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func removeTags(cli *client.Client, repo string, tags ...string) {
	for _, tag := range tags {
		_, _ = cli.ImageRemove(context.Background(), repo+":"+tag, dockerimage.RemoveOptions{})
	}
}

// The router image is built from what git tracks too: an untracked file
// among the router's sources (here one that does not compile) neither
// reaches the build nor makes the router dirty.
func TestUntrackedFilesGoIntoNoRouterImage(t *testing.T) {
	cli := testenv.Docker(t)
	ctx := context.Background()
	r := newRepo(t)
	r.copyTracked("go.mod", "go.sum", "cmd/slipway-router", "internal/router")
	r.git("add", ".")
	r.git("commit", "-q", "-m", "router")
	s7 := r.git("rev-parse", "--short=7", "HEAD")
	r.write("internal/router/zz_untracked.go", "package router\n\nthis is not Go\n")
	const repo = "slipway-test/router-untracked"
	t.Cleanup(func() { removeTags(cli, repo, s7, s7+"-dirty", "latest") })
	b := &build.Builder{Engine: cli, ModuleDir: r.dir, RouterImage: repo, Log: testenv.Log(t)}
	id, err := b.BuildRouter(ctx)
	if err != nil {
		t.Fatalf("an untracked file reached the router's build: %v", err)
	}
	labels, err := image.Labels(ctx, cli, repo+":"+s7)
	if err != nil {
		t.Fatalf("no clean router image %s:%s: %v", repo, s7, err)
	}
	if labels[image.LabelDirty] != "" || labels["org.opencontainers.image.version"] != "router-"+s7 {
		t.Errorf("router image %s labels %v, want clean router-%s", id, labels, s7)
	}
}
