// Package testenv gives tests the real dependencies they need (a Docker
// engine, binaries on PATH) and decides what happens when one is missing:
// under CI (CI is set) the test fails loudly; on a laptop it is skipped with
// a printed reason.
package testenv

import (
	"bytes"
	"context"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/local"
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

// Docker returns a client for the local Docker engine, connected the way
// the local target connects (local.Connect: API version negotiation, a
// ping), or fails/skips the test when no engine answers.
func Docker(t testing.TB) *client.Client {
	t.Helper()
	cli, err := local.Connect(context.Background())
	if err != nil {
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
	port := FreePort(t)
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

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreePortRange finds n consecutive ports free on 127.0.0.1 (nothing stops
// another process from taking one before the test does), for a router's
// stack ports. They are below Linux's ephemeral range (32768 and up),
// where FreePort's ports come from, so a range never holds a port
// FreePort gave the same test.
func FreePortRange(t testing.TB, n int) (first, last int) {
	t.Helper()
	for range 200 {
		first := 20000 + mrand.IntN(32000-20000-n)
		free := true
		for p := first; p < first+n && free; p++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				free = false
				continue
			}
			_ = ln.Close() // only probing
		}
		if free {
			return first, first + n - 1
		}
	}
	t.Fatal("no free range of ports found on 127.0.0.1")
	return 0, 0
}

// Log is an io.Writer that sends each write to t.Log, one line per write:
// progress written by the code under test shows up with the test's output.
func Log(t testing.TB) io.Writer { return logWriter{t} }

type logWriter struct{ t testing.TB }

func (l logWriter) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// ModuleDir is the Slipway module's root (build.ModuleDir), or fails the
// test.
func ModuleDir(t testing.TB) string {
	t.Helper()
	dir, err := build.ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// SyncBuffer is a progress writer the code under test writes to from any
// goroutine while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Lines is what was written, one element per line.
func (s *SyncBuffer) Lines() []string {
	return strings.Split(strings.TrimSpace(s.String()), "\n")
}

// Reset forgets what was written.
func (s *SyncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}
