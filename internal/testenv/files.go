package testenv

import (
	"archive/tar"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

// CopyDir copies the regular files under src to dst (Python's
// __pycache__ left out), for a test that needs a repository of its own.
func CopyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "__pycache__" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// SeedGoSum gives a new module in dir Slipway's go.sum (root is Slipway's
// checkout), so its go commands work offline from the module cache, and
// turns the proxy and workspaces off for the test.
func SeedGoSum(t *testing.T, root, dir string) {
	t.Helper()
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOWORK", "off")
}

// FilesIn returns the content of each path in the image ref, "" for a path
// it does not have.
func FilesIn(t testing.TB, cli *client.Client, ref string, paths ...string) map[string]string {
	t.Helper()
	ctx := context.Background()
	c, err := cli.ContainerCreate(ctx, &container.Config{Image: ref}, nil, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}) }()
	out := map[string]string{}
	for _, p := range paths {
		rc, _, err := cli.CopyFromContainer(ctx, c.ID, p)
		if cerrdefs.IsNotFound(err) {
			out[p] = ""
			continue
		}
		if err != nil {
			t.Fatalf("read %s from %s: %v", p, ref, err)
		}
		tr := tar.NewReader(rc)
		if _, err := tr.Next(); err != nil {
			t.Fatalf("read %s from %s: %v", p, ref, err)
		}
		body, err := io.ReadAll(tr)
		_ = rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[p] = string(body)
	}
	return out
}
