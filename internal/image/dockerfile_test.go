package image_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/client"

	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/testenv"
)

// A Dockerfile app is built with BuildKit: the stage asked for and none
// after it, the build arguments, none of what .dockerignore names, one
// progress line per step, and the platform the engine built for.
func TestADockerfileAppIsBuiltWithBuildKit(t *testing.T) {
	cli, dir := debianApp(t)
	ctx := t.Context()
	var progress bytes.Buffer
	id, err := image.BuildDockerfile(ctx, cli, image.Dockerfile{
		Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile"), Target: "app",
		BuildArgs: map[string]string{"GREETING": "ahoy"}, Labels: map[string]string{"dev.slipway.test": "yes"},
	}, &progress)
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	removeImage(t, cli, id)
	for _, want := range []string{"[app 3/4] RUN echo \"ahoy\" > /greeting", "[app 4/4] COPY . /app", "exporting to image"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress has no step %q", want)
		}
	}
	if strings.Contains(progress.String(), "Step 1/") || strings.Contains(progress.String(), "debug") {
		t.Errorf("progress shows the classic builder or the debug stage after the target")
	}
	files := testenv.FilesIn(t, cli, id, "/greeting", "/app/keep.txt", "/app/logs/keep.log", "/app/secret.txt", "/app/logs/today.log", "/debug-stage")
	want := map[string]string{"/greeting": "ahoy\n", "/app/keep.txt": "kept\n", "/app/logs/keep.log": "kept by the ! pattern\n"}
	for path, body := range files {
		if want[path] != body {
			t.Errorf("%s in the image: %q, want %q (absent: \"\")", path, body, want[path])
		}
	}
	info, err := cli.ImageInspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Labels["dev.slipway.test"] != "yes" {
		t.Errorf("labels %v, want dev.slipway.test=yes", info.Config.Labels)
	}
	if p, err := image.Platform(ctx, cli, id); err != nil || p != "linux/"+runtime.GOARCH {
		t.Errorf("platform %q, %v; want linux/%s", p, err, runtime.GOARCH)
	}
}

// A second build with nothing changed takes every step from the cache and
// says so; a RUN --mount=type=cache sees what an earlier build wrote there.
func TestLayersAndCacheMountsLastBetweenBuilds(t *testing.T) {
	cli, dir := debianApp(t)
	ctx := t.Context()
	// Tokens new to the engine, so that the RUN steps run at first.
	first, second := fmt.Sprintf("first-%d", time.Now().UnixNano()), fmt.Sprintf("second-%d", time.Now().UnixNano())
	built := map[string]bool{}
	build := func(token string) (string, string) {
		t.Helper()
		var progress bytes.Buffer
		id, err := image.BuildDockerfile(ctx, cli, image.Dockerfile{
			Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile"), Target: "app",
			BuildArgs: map[string]string{"TOKEN": token},
		}, &progress)
		if err != nil {
			t.Fatalf("build: %v\n%s", err, progress.String())
		}
		if !built[id] { // an unchanged build may give the same image
			built[id] = true
			removeImage(t, cli, id)
		}
		return id, progress.String()
	}
	build(first)
	_, again := build(first)
	for _, step := range []string{"[deps 2/2] RUN --mount=type=cache", "[app 3/4] RUN echo", "[app 4/4] COPY . /app"} {
		if !hasLine(again, step, "CACHED") {
			t.Errorf("the second build did not say step %q was CACHED:\n%s", step, again)
		}
	}
	next, _ := build(second)
	if seen := testenv.FilesIn(t, cli, next, "/seen-in-cache")["/seen-in-cache"]; !strings.Contains(seen, first) {
		t.Errorf("the cache mount in the next build held %q, want the first build's %s", seen, first)
	}
}

// A `# syntax=` line makes BuildKit pull a frontend image first; when it
// cannot, the error says which line, why and what to do.
func TestASyntaxFrontendThatCannotBePulledIsNamed(t *testing.T) {
	cli, dir := debianApp(t)
	const frontend = "127.0.0.1:9/slipway-test/no-such-frontend:1" // nothing listens on port 9
	dockerfile := writeFile(t, dir, "Dockerfile", "# syntax="+frontend+"\nFROM debian:bookworm-slim\n", 0o644)
	_, err := image.BuildDockerfile(t.Context(), cli, image.Dockerfile{Context: dir, Dockerfile: dockerfile}, testenv.Log(t))
	var se *image.SyntaxError
	if !errors.As(err, &se) || se.Frontend != frontend {
		t.Fatalf("error %v (%T), want a *SyntaxError naming %s", err, err, frontend)
	}
	for _, want := range []string{"Dockerfile starts with `# syntax=" + frontend + "`", "cannot pull that frontend image", "connection refused", "delete the line"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// Asked for the classic builder, the build says so on one line and still
// honours the target, the build arguments, .dockerignore and a Dockerfile
// outside the context.
func TestTheClassicBuilderWhenAsked(t *testing.T) {
	cli, dir := debianApp(t)
	var progress bytes.Buffer
	id, err := image.BuildDockerfile(t.Context(), cli, image.Dockerfile{
		Context: dir, Dockerfile: filepath.Join("testdata", "classic.Dockerfile"), Target: "app",
		BuildArgs: map[string]string{"GREETING": "classic"}, Classic: true,
	}, &progress)
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	removeImage(t, cli, id)
	if first, _, _ := strings.Cut(progress.String(), "\n"); first != "build: classic builder, as asked (BuildKit off): no RUN --mount, every stage built" {
		t.Errorf("first progress line %q, want the classic builder said", first)
	}
	if !strings.Contains(progress.String(), "Step 1/") {
		t.Errorf("progress does not show the classic builder's steps")
	}
	files := testenv.FilesIn(t, cli, id, "/greeting", "/app/keep.txt", "/app/secret.txt", "/app/logs/today.log", "/debug-stage")
	want := map[string]string{"/greeting": "classic\n", "/app/keep.txt": "kept\n"}
	for path, body := range files {
		if want[path] != body {
			t.Errorf("%s in the image: %q, want %q (absent: \"\")", path, body, want[path])
		}
	}
}

// An engine without BuildKit gets the classic builder, and the build says
// why on one line.
func TestAnEngineWithoutBuildKitGetsTheClassicBuilder(t *testing.T) {
	tests := map[string]struct {
		ping types.Ping
		want string
	}{
		"an API older than BuildKit's": {types.Ping{APIVersion: "1.38", OSType: "linux"},
			"build: the engine (Docker API 1.38, BuildKit needs 1.39) has no BuildKit: building with the classic builder instead (no RUN --mount, every stage built)"},
		"BuildKit turned off in the daemon": {types.Ping{APIVersion: "1.41", OSType: "linux", BuilderVersion: "1"},
			`build: the engine has BuildKit turned off (daemon.json "features": {"buildkit": false}): building with the classic builder instead (no RUN --mount, every stage built)`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "Dockerfile", "FROM scratch\n", 0o644)
			e := &fakeEngine{stream: filepath.Join("testdata", "streams", "build.jsonl"), ping: tc.ping}
			var progress bytes.Buffer
			if _, err := image.BuildDockerfile(t.Context(), e, image.Dockerfile{Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile")}, &progress); err != nil {
				t.Fatal(err)
			}
			if first, _, _ := strings.Cut(progress.String(), "\n"); first != tc.want {
				t.Errorf("first progress line\n%s\nwant\n%s", first, tc.want)
			}
			if e.buildOptions.Version != "1" || len(e.buildContext) == 0 {
				t.Errorf("build sent as version %q with %d context bytes, want the classic builder and a tar", e.buildOptions.Version, len(e.buildContext))
			}
		})
	}
}

// debianApp is the engine and a copy of testdata/dockerapp; the test
// needs debian:bookworm-slim, which scripts/setup-debian.sh makes.
func debianApp(t *testing.T) (*client.Client, string) {
	t.Helper()
	cli := testenv.Docker(t)
	if _, err := cli.ImageInspect(t.Context(), "debian:bookworm-slim"); err != nil {
		testenv.Missing(t, "the image debian:bookworm-slim", "run scripts/setup-debian.sh (or docker pull debian:bookworm-slim)")
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "dockerapp"))); err != nil {
		t.Fatal(err)
	}
	return cli, dir
}

// hasLine reports whether progress has a line holding both parts.
func hasLine(progress, step, word string) bool {
	for l := range strings.Lines(progress) {
		if strings.Contains(l, step) && strings.Contains(l, word) {
			return true
		}
	}
	return false
}
