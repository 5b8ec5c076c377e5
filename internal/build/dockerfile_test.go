package build_test

import (
	"bytes"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/docker/docker/client"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/manifest"
	"github.com/slipway/slipway/internal/testenv"
)

// dockerApp is a multi-stage app on debian:bookworm-slim: its last stage
// is not the one slipway.yaml asks for.
const dockerApp = `FROM debian:bookworm-slim AS app
ARG GREETING=hello
RUN echo "$GREETING" > /greeting
COPY . /app

FROM app AS debug
RUN touch /debug-stage
`

// An app with a slipway.yaml and a Dockerfile gets the image the
// manifest describes (target, build arguments), from the files git tracks
// less what .dockerignore names, tagged and labelled as the deploy code
// expects, with its platform; the same clean commit is then reused, and
// a one-line change is built on the cached layers.
func TestADockerfileAppIsBuiltFromItsManifest(t *testing.T) {
	cli := debianEngine(t)
	ctx := t.Context()
	r := dockerAppRepo(t)
	commit, s7 := r.git("rev-parse", "HEAD"), r.git("rev-parse", "--short=7", "HEAD")
	r.write("untracked.txt", "never built\n")
	const repo = "slipway-test/dockerapp"
	t.Cleanup(func() { removeTags(cli, repo, s7, s7+"-dirty", "pr-1", "pr-2", "pr-3") })
	var log bytes.Buffer
	b := &build.Builder{Engine: cli, ModuleDir: r.dir, AppImage: repo, Manifest: loadManifest(t, r), Log: &log}
	img, err := b.Build(ctx, "pr-1")
	t.Logf("build log:\n%s", log.String())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "build: "+repo+":"+s7+" (commit "+s7+", version "+s7+") from Dockerfile (target app)") ||
		!hasLine(log.String(), "[app 2/3] RUN echo", "") {
		t.Errorf("the log does not say what is built and how, step by step")
	}
	if img.Platform != "linux/"+runtime.GOARCH || img.Commit != commit {
		t.Errorf("image %+v, want platform linux/%s and commit %s", img, runtime.GOARCH, commit)
	}
	files := testenv.FilesIn(t, cli, repo+":pr-1", "/greeting", "/app/keep.txt", "/app/secret.txt", "/app/untracked.txt", "/debug-stage")
	want := map[string]string{"/greeting": "from-manifest\n", "/app/keep.txt": "v1\n"}
	for path, body := range files {
		if want[path] != body {
			t.Errorf("%s in the image: %q, want %q (absent: \"\")", path, body, want[path])
		}
	}
	labels, err := image.Labels(ctx, cli, repo+":"+s7)
	if err != nil {
		t.Fatal(err)
	}
	if labels["org.opencontainers.image.revision"] != commit || labels["org.opencontainers.image.version"] != s7 ||
		labels[build.LabelTree] != r.git("rev-parse", "HEAD^{tree}") || labels[image.LabelDirty] != "" {
		t.Errorf("labels %v, want the clean commit's revision, version and tree", labels)
	}

	log.Reset()
	again, err := b.Build(ctx, "pr-2")
	if err != nil || again.Ref != img.Ref || again.Platform != img.Platform || !strings.Contains(log.String(), "build: reusing "+repo+":"+s7) {
		t.Errorf("the clean commit was not reused: %+v, %v\n%s", again, err, log.String())
	}

	r.write("keep.txt", "v2\n")
	log.Reset()
	dirty, err := b.Build(ctx, "pr-3")
	t.Logf("build log:\n%s", log.String())
	if err != nil {
		t.Fatal(err)
	}
	if !hasLine(log.String(), "[app 2/3] RUN echo", "CACHED") {
		t.Errorf("a one-line change did not reuse the layers before it")
	}
	if got := testenv.FilesIn(t, cli, repo+":pr-3", "/app/keep.txt")["/app/keep.txt"]; got != "v2\n" {
		t.Errorf("the changed file in the image: %q, want v2", got)
	}
	labels, err = image.Labels(ctx, cli, repo+":"+s7+"-dirty")
	if err != nil {
		t.Fatalf("no %s:%s-dirty: %v", repo, s7, err)
	}
	if labels["org.opencontainers.image.revision"] != commit+"-dirty" || labels[image.LabelDirty] != "true" ||
		labels[build.LabelTree] != "" || dirty.Version != s7+"-dirty" {
		t.Errorf("dirty build %+v labels %v, want revision %s-dirty, %s=true and no tree", dirty, labels, commit, image.LabelDirty)
	}
}

// A Dockerfile git does not track is not built (a build takes only the
// files git tracks), and the error says so.
func TestAnUntrackedDockerfileIsNotBuilt(t *testing.T) {
	cli := debianEngine(t)
	r := newRepo(t)
	t.Setenv("SLIPWAY_COMMIT", "")
	r.write("slipway.yaml", "build:\n  dockerfile: Dockerfile\n")
	r.git("add", ".")
	r.git("commit", "-q", "-m", "manifest only")
	r.write("Dockerfile", "FROM debian:bookworm-slim\n")
	b := &build.Builder{Engine: cli, ModuleDir: r.dir, AppImage: "slipway-test/untracked-dockerfile", Manifest: loadManifest(t, r), Log: testenv.Log(t)}
	_, err := b.Build(t.Context(), "pr-1")
	if want := "build: Dockerfile is not among the files git tracks, and a build takes only those: git add it (and commit)"; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// The sample app's own slipway.yaml (build.go) takes the Go fast path,
// schema labels included, as the sample app without a manifest does.
func TestTheSampleAppsManifestTakesTheGoFastPath(t *testing.T) {
	cli := testenv.Docker(t)
	r := sampleAppRepo(t)
	s7 := r.git("rev-parse", "--short=7", "HEAD")
	m, err := manifest.Load(filepath.Join(r.dir, "sample-app", manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	const repo = "slipway-test/sample-manifest"
	t.Cleanup(func() { removeTags(cli, repo, s7, "pr-1") })
	var log bytes.Buffer
	b := &build.Builder{Engine: cli, ModuleDir: r.dir, AppImage: repo, Manifest: m, Log: &log}
	img, err := b.Build(t.Context(), "pr-1")
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "by the Go fast path (./sample-app)") {
		t.Errorf("log does not say the Go fast path:\n%s", log.String())
	}
	labels, err := image.Labels(t.Context(), cli, img.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if labels["dev.slipway.schema.head"] == "" || img.Platform != "linux/"+runtime.GOARCH {
		t.Errorf("image %+v labels %v, want the schema labels and platform linux/%s", img, labels, runtime.GOARCH)
	}
}

// dockerAppRepo is a git repository holding dockerApp, a slipway.yaml
// that builds its "app" stage with GREETING set, a .dockerignore naming
// secret.txt, and keep.txt, all committed.
func dockerAppRepo(t testing.TB) *repo {
	t.Helper()
	t.Setenv("SLIPWAY_COMMIT", "")
	t.Setenv("SLIPWAY_VERSION", "")
	r := newRepo(t)
	r.write("slipway.yaml", "app: shop\nbuild:\n  dockerfile: Dockerfile\n  target: app\n  args:\n    GREETING: from-manifest\nport: 3000\n")
	r.write("Dockerfile", dockerApp)
	r.write(".dockerignore", "secret.txt\n")
	r.write("secret.txt", "not for images\n")
	r.write("keep.txt", "v1\n")
	r.git("add", ".")
	r.git("commit", "-q", "-m", "docker app")
	return r
}

func loadManifest(t testing.TB, r *repo) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Load(filepath.Join(r.dir, manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// debianEngine is the engine, which must have debian:bookworm-slim
// (scripts/setup-debian.sh makes it where nothing can be pulled).
func debianEngine(t testing.TB) *client.Client {
	t.Helper()
	cli := testenv.Docker(t)
	if _, err := cli.ImageInspect(t.Context(), "debian:bookworm-slim"); err != nil {
		testenv.Missing(t, "the image debian:bookworm-slim", "run scripts/setup-debian.sh (or docker pull debian:bookworm-slim)")
	}
	return cli
}

// hasLine reports whether log has a line holding both parts.
func hasLine(log, step, word string) bool {
	for l := range strings.Lines(log) {
		if strings.Contains(l, step) && strings.Contains(l, word) {
			return true
		}
	}
	return false
}
