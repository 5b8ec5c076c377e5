package image_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/naming"
	"github.com/slipway/slipway/internal/testenv"
	"github.com/slipway/slipway/internal/testenv/registrytest"
)

const testSHA = "5e1f0a9c3b7d2e4f6a8b0c1d2e3f4a5b6c7d8e9f"

// removeImage deletes the image id and its tags when the test ends.
func removeImage(t *testing.T, cli *client.Client, id string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := cli.ImageRemove(ctx, id, dockerimage.RemoveOptions{Force: true, PruneChildren: true})
		if err != nil {
			t.Errorf("remove image %s: %v", id, err)
		}
	})
}

// pushed is an image built from testdata/hello with two tags, and the
// registry to push it to.
type pushed struct {
	ctx  context.Context
	cli  *client.Client
	reg  *registrytest.Registry
	repo string   // 127.0.0.1:PORT/slipway-test/hello
	tags []string // repo:<sha7>, repo:pr-42
}

// TestGoImageIsBuiltLabelledAndPushedByDigest drives the whole path against
// the local engine and a real registry: compile, build FROM scratch, check
// labels, push with credentials, and compare digests with the registry's.
func TestGoImageIsBuiltLabelledAndPushedByDigest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and pushes an image; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	p := &pushed{ctx: ctx, cli: testenv.Docker(t), reg: registrytest.Start(t)}
	p.repo = p.reg.Host + "/slipway-test/hello"
	tags, err := naming.ImageTags(p.repo, testSHA, "pr-42", false)
	if err != nil {
		t.Fatal(err)
	}
	p.tags = tags
	var progress bytes.Buffer
	id, err := image.BuildGo(ctx, p.cli, image.GoImage{
		ModuleDir: ".", Package: "./testdata/hello", Dockerfile: "testdata/hello/Dockerfile",
		Version: "v1.2.3", Commit: testSHA, Source: "https://github.com/slipway/slipway", Tags: tags,
		Args: func(_ context.Context, bin string) (map[string]string, error) {
			if _, err := os.Stat(bin); err != nil {
				return nil, err // called with the compiled binary
			}
			return map[string]string{"FROM_BINARY": "read-from-" + filepath.Base(bin), "VERSION": "not-this"}, nil
		},
	}, &progress)
	t.Logf("build progress:\n%s", progress.String())
	if err != nil {
		t.Fatalf("BuildGo: %v", err)
	}
	removeImage(t, p.cli, id)
	if !strings.HasPrefix(id, "sha256:") {
		t.Errorf("image ID %q, want sha256:...", id)
	}
	t.Run("labels come from the build args", p.labels)
	var digest string
	t.Run("push returns the digest the registry stores", func(t *testing.T) { digest = p.pushBothTags(t) })
	t.Run("the digest reference resolves in the registry", func(t *testing.T) { p.byDigest(t, digest) })
	t.Run("push with a wrong password fails with the registry's reason", p.wrongPassword)
}

func (p *pushed) labels(t *testing.T) {
	labels, err := image.Labels(p.ctx, p.cli, p.tags[1])
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"org.opencontainers.image.version":  "v1.2.3",
		"org.opencontainers.image.revision": testSHA,
		"org.opencontainers.image.source":   "https://github.com/slipway/slipway",
		"dev.slipway.test.from-binary":      "read-from-app", // Args beat the Dockerfile's default, never VERSION
	}
	for k, v := range want {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q (all: %v)", k, labels[k], v, labels)
		}
	}
}

// pushBothTags pushes each tag, checks the returned digest against the
// registry's header and the sha256 of the manifest body, and returns it.
func (p *pushed) pushBothTags(t *testing.T) string {
	auth := image.Auth{Username: p.reg.User, Password: p.reg.Password}
	var digests []string
	for _, ref := range p.tags {
		var out bytes.Buffer
		d, err := image.Push(p.ctx, p.cli, ref, auth, &out)
		t.Logf("push %s progress:\n%s", ref, out.String())
		if err != nil {
			t.Fatalf("Push(%s): %v", ref, err)
		}
		assertOneLinePerStatus(t, out.String())
		tag := ref[strings.LastIndex(ref, ":")+1:]
		head, _, _ := p.reg.Manifest(t, http.MethodHead, "slipway-test/hello", tag)
		got, sum, mediaType := p.reg.Manifest(t, http.MethodGet, "slipway-test/hello", tag)
		t.Logf("%s: push %s, HEAD %s, GET %s, sha256(body) %s, %s", tag, d, head, got, sum, mediaType)
		if head != d || got != d || sum != d {
			t.Errorf("%s: Push returned %s; registry HEAD %s, GET %s, sha256(body) %s", tag, d, head, got, sum)
		}
		digests = append(digests, d)
	}
	if digests[0] != digests[1] {
		t.Errorf("the two tags of one image pushed different manifests: %v", digests)
	}
	return digests[0]
}

func (p *pushed) byDigest(t *testing.T, digest string) {
	if digest == "" {
		t.Skip("push failed")
	}
	ref, err := image.ByDigest(p.repo, digest)
	if err != nil {
		t.Fatal(err)
	}
	if want := p.repo + "@" + digest; ref != want {
		t.Errorf("ByDigest = %q, want %q", ref, want)
	}
	if got, _, _ := p.reg.Manifest(t, http.MethodHead, "slipway-test/hello", digest); got != digest {
		t.Errorf("HEAD by digest: Docker-Content-Digest %s, want %s", got, digest)
	}
}

func (p *pushed) wrongPassword(t *testing.T) {
	wrong := image.Auth{Username: p.reg.User, Password: "wrong-password"}
	_, err := image.Push(p.ctx, p.cli, p.tags[1], wrong, nil)
	if err == nil {
		t.Fatal("Push with a wrong password succeeded")
	}
	t.Logf("error: %v", err)
	msg := err.Error()
	if !strings.Contains(msg, "push image "+p.tags[1]+": ") || !strings.Contains(strings.ToLower(msg), "unauthorized") {
		t.Errorf("error %q does not name the reference and say unauthorized", err)
	}
}

// assertOneLinePerStatus fails when a layer's status is printed twice in a
// row, as it would be if every progress chunk became a line.
func assertOneLinePerStatus(t *testing.T, out string) {
	t.Helper()
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if seen[line] && strings.Contains(line, ": ") && !strings.Contains(line, "digest:") {
			t.Errorf("progress line %q printed more than once:\n%s", line, out)
		}
		seen[line] = true
	}
}

func TestBuildFailureCarriesTheDaemonsReason(t *testing.T) {
	if testing.Short() {
		t.Skip("talks to the Docker engine; skipped with -short")
	}
	cli := testenv.Docker(t)
	dockerfile := filepath.Join(t.TempDir(), "Dockerfile")
	if err := os.WriteFile(dockerfile, []byte("FROM scratch\nCOPY no-such-file /app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tarball, err := image.TarContext(map[string]string{"Dockerfile": dockerfile})
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	_, err = image.Build(t.Context(), cli, image.BuildOptions{Context: tarball}, &progress)
	t.Logf("progress:\n%s", progress.String())
	if err == nil {
		t.Fatal("Build succeeded with a COPY of a missing file")
	}
	t.Logf("error: %v", err)
	var se *image.StreamError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *image.StreamError", err, err)
	}
	if !strings.HasPrefix(err.Error(), "build image: ") || !strings.Contains(se.Message, "no-such-file") {
		t.Errorf("error %q does not start with \"build image: \" and name the missing file", err)
	}
}
