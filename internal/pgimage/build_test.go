package pgimage_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/build"
	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/slipway/slipway/internal/pgimage"
	"github.com/slipway/slipway/internal/testenv"
)

// engine is a Docker engine in memory: images are names, an import reads
// the whole tarball, a build records its Dockerfile and tags.
type engine struct {
	images     map[string]bool
	imported   int64  // bytes of the last import
	importErr  string // a failure the import stream reports
	dockerfile string
	built      []string
}

var _ pgimage.Engine = (*engine)(nil)

// Ping and DialHijack complete image.Engine; pgimage builds with the
// classic builder, so a call to them is a failure of the test.
func (e *engine) Ping(context.Context) (types.Ping, error) {
	return types.Ping{APIVersion: "1.41"}, nil
}
func (e *engine) DialHijack(context.Context, string, string, map[string][]string) (net.Conn, error) {
	return nil, errors.New("the in-memory engine has no BuildKit session: pgimage must build with the classic builder")
}

func (e *engine) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (dockerimage.InspectResponse, error) {
	if !e.images[ref] {
		return dockerimage.InspectResponse{}, cerrdefs.ErrNotFound
	}
	return dockerimage.InspectResponse{ID: "sha256:" + ref}, nil
}

func (e *engine) ImageTag(_ context.Context, _, target string) error {
	e.images[target] = true
	return nil
}

func (e *engine) ImageImport(_ context.Context, src dockerimage.ImportSource, _ string, _ dockerimage.ImportOptions) (io.ReadCloser, error) {
	n, err := io.Copy(io.Discard, src.Source)
	if err != nil {
		return nil, err
	}
	e.imported = n
	if e.importErr != "" {
		return io.NopCloser(strings.NewReader(`{"errorDetail":{"message":"` + e.importErr + `"}}`)), nil
	}
	return io.NopCloser(strings.NewReader(`{"status":"sha256:imported"}`)), nil
}

func (e *engine) ImageBuild(_ context.Context, c io.Reader, o build.ImageBuildOptions) (build.ImageBuildResponse, error) {
	tr := tar.NewReader(c)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if h.Name == "Dockerfile" {
			b, _ := io.ReadAll(tr) // a short read fails the Dockerfile check
			e.dockerfile = string(b)
		}
	}
	e.built = o.Tags
	for _, t := range o.Tags {
		e.images[t] = true
	}
	return build.ImageBuildResponse{Body: io.NopCloser(strings.NewReader(`{"aux":{"ID":"sha256:built"}}`))}, nil
}

func (e *engine) ImagePush(context.Context, string, dockerimage.PushOptions) (io.ReadCloser, error) {
	return nil, errors.New("not used")
}

func (e *engine) ImageRemove(context.Context, string, dockerimage.RemoveOptions) ([]dockerimage.DeleteResponse, error) {
	return nil, errors.New("not used")
}

// fakeMmdebstrap puts an mmdebstrap on PATH that runs script, and the
// build lock in a directory of the test's own.
func fakeMmdebstrap(t *testing.T, script string) {
	dir := t.TempDir()
	if script != "" {
		if err := os.WriteFile(filepath.Join(dir, "mmdebstrap"), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("TMPDIR", t.TempDir())
}

// The first build imports mmdebstrap's whole tarball and builds the server
// on it under its recipe tag and the tag asked for; the second finds it and
// only tags it.
func TestBuildOncePerRecipe(t *testing.T) {
	fakeMmdebstrap(t, `echo "I: pretending" >&2; head -c 300000 /dev/zero`)
	e := &engine{images: map[string]bool{}}
	var progress bytes.Buffer
	ref, fresh, err := pgimage.Build(context.Background(), e, pgimage.Options{ModuleDir: testenv.ModuleDir(t), Tag: "mine:17"}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if !fresh || !strings.HasPrefix(ref, pgimage.Repository+":"+pgimage.Major+"-") || !slices.Equal(e.built, []string{ref, "mine:17"}) {
		t.Errorf("Build = %s, fresh %v, tags %q; want a fresh image under its recipe tag and mine:17", ref, fresh, e.built)
	}
	if e.imported != 300000 {
		t.Errorf("imported %d bytes, want mmdebstrap's 300000", e.imported)
	}
	if !strings.HasPrefix(e.dockerfile, "FROM sha256:imported\n") || !strings.Contains(e.dockerfile, "STOPSIGNAL SIGINT") {
		t.Errorf("Dockerfile:\n%s\nwant it FROM the imported root file system", e.dockerfile)
	}
	if !strings.Contains(progress.String(), "I: pretending") {
		t.Errorf("progress lacks mmdebstrap's lines:\n%s", progress.String())
	}

	e.built, e.imported = nil, 0
	again, fresh, err := pgimage.Build(context.Background(), e, pgimage.Options{ModuleDir: testenv.ModuleDir(t), Tag: "other:17"}, io.Discard)
	if err != nil || fresh || again != ref || e.built != nil || e.imported != 0 || !e.images["other:17"] {
		t.Errorf("second Build = %s, fresh %v, %v (built %q, imported %d); want the same image, only tagged other:17", again, fresh, err, e.built, e.imported)
	}
}

// A build that cannot be made says why: mmdebstrap missing (an
// exec.ErrNotFound, which pgtest turns into a skip off CI), mmdebstrap
// failing (its last lines, not the import's complaint about the truncated
// tarball it left), or the engine refusing the import.
func TestBuildFailures(t *testing.T) {
	for name, tc := range map[string]struct {
		script, importErr string
		want              []string
		notFound          bool
	}{
		"mmdebstrap missing": {script: "", want: []string{"mmdebstrap not found", "scripts/setup-debian.sh"}, notFound: true},
		"mmdebstrap fails": {script: `echo "E: cannot reach deb.debian.org" >&2; head -c 1000 /dev/zero; exit 1`, importErr: "unexpected EOF",
			want: []string{"mmdebstrap: exit status 1", "E: cannot reach deb.debian.org"}},
		"the engine refuses the import": {script: `head -c 1000 /dev/zero`, importErr: "no space left on device",
			want: []string{"import the root file system: no space left on device"}},
	} {
		t.Run(name, func(t *testing.T) {
			fakeMmdebstrap(t, tc.script)
			if tc.script == "" {
				t.Setenv("PATH", t.TempDir()) // the Build fails before it needs anything else
			}
			e := &engine{images: map[string]bool{}, importErr: tc.importErr}
			_, _, err := pgimage.Build(context.Background(), e, pgimage.Options{ModuleDir: testenv.ModuleDir(t)}, io.Discard)
			if err == nil {
				t.Fatal("Build succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if errors.Is(err, exec.ErrNotFound) != tc.notFound {
				t.Errorf("errors.Is(err, exec.ErrNotFound) = %v, want %v", !tc.notFound, tc.notFound)
			}
			if len(e.images) != 0 {
				t.Errorf("images after a failed build: %v", e.images)
			}
		})
	}
}
