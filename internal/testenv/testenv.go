// Package testenv gives tests the real dependencies they need (a Docker
// engine, binaries on PATH) and decides what happens when one is missing:
// under CI (CI is set) the test fails loudly; on a laptop it is skipped with
// a printed reason.
package testenv

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// InCI reports whether the tests run in CI, where a missing dependency is a
// failure rather than a skip.
func InCI() bool { return os.Getenv("CI") != "" }

// Missing fails the test under CI and skips it elsewhere, saying why.
func Missing(t testing.TB, what, how string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required in CI but missing: %s", what, how)
	}
	t.Skipf("SKIPPED (not counted as passed): %s is missing: %s", what, how)
}

// Docker returns a client for the local Docker engine, with API version
// negotiation, or fails/skips the test when no engine answers.
func Docker(t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		Missing(t, "Docker engine", "create client: "+err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		_ = cli.Close()
		Missing(t, "Docker engine", "start dockerd (`bash .ci/run` does): "+err.Error())
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// Binary returns the path of an executable on PATH, or fails/skips the test.
func Binary(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name, install)
	}
	return p
}
