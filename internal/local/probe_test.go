package local_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/testenv"
)

// runProbe runs testdata/adminprobe as an app container would: in the
// app's own image (FROM scratch, no HTTP client), on the app's network,
// with Docker's default capabilities and caps (as root when caps are given:
// the app image's user has none). It returns each request's outcome by name
// ("status 403", "error ...").
func runProbe(t *testing.T, e *env, caps []string, requests ...string) map[string]string {
	t.Helper()
	user := ""
	if len(caps) > 0 {
		user = "0:0"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "adminprobe")
	if err := image.CompileStatic(ctx, testenv.ModuleDir(t), "./internal/local/testdata/adminprobe", bin, "test", "test", false); err != nil {
		t.Fatal(err)
	}
	resp, err := e.cli.ContainerCreate(ctx,
		&container.Config{Image: images.appA.Ref, User: user, Entrypoint: []string{"/adminprobe"}, Cmd: requests},
		&container.HostConfig{Binds: []string{bin + ":/adminprobe:ro"}, NetworkMode: container.NetworkMode("slipway-" + e.app), CapAdd: caps},
		nil, nil, "")
	if err != nil {
		t.Fatalf("create probe container: %v", err)
	}
	t.Cleanup(func() {
		if err := e.cli.ContainerRemove(context.Background(), resp.ID, container.RemoveOptions{Force: true}); err != nil {
			t.Errorf("remove probe container: %v", err)
		}
	})
	if err := e.cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		t.Fatalf("start probe container: %v", err)
	}
	waitc, errc := e.cli.ContainerWait(ctx, resp.ID, container.WaitConditionNotRunning)
	select {
	case w := <-waitc:
		if w.StatusCode != 0 {
			t.Fatalf("probe exited with %d", w.StatusCode)
		}
	case err := <-errc:
		t.Fatalf("wait for the probe: %v", err)
	}
	logs, err := e.cli.ContainerLogs(ctx, resp.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatalf("read probe output: %v", err)
	}
	defer func() { _ = logs.Close() }()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, logs); err != nil {
		t.Fatalf("read probe output: %v", err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if name, outcome, ok := strings.Cut(line, ": "); ok {
			got[name] = outcome
		}
	}
	t.Logf("from an app container: %v (stderr %q)", got, stderr.String())
	return got
}
