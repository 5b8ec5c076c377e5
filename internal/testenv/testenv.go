// Package testenv gives tests the real dependencies they need (a Docker
// engine, binaries on PATH) and decides what happens when one is missing:
// under CI (CI is set) the test fails loudly; on a laptop it is skipped with
// a printed reason.
package testenv

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// Moto starts a moto server (the AWS API stand-in, from the test venv that
// `go run mage.go test` prepares: $SLIPWAY_VENV/bin, else PATH) on a free
// loopback port and returns its endpoint URL. It is stopped when the test
// ends.
func Moto(t testing.TB) string {
	t.Helper()
	bin := "moto_server"
	if venv := os.Getenv("SLIPWAY_VENV"); venv != "" {
		if p := filepath.Join(venv, "bin", "moto_server"); fileExists(p) {
			bin = p
		}
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		Missing(t, "moto_server", "run the suite with `go run mage.go test`, which installs moto[server] in a venv")
	}
	port := freePort(t)
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			_ = resp.Body.Close()
			return url
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("moto_server did not answer on %s within 30s; its output:\n%s", url, out.String())
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
