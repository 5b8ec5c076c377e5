package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/testenv"
)

// TestBinaryReportsItsBuildAndStopsCleanlyOnSIGTERM builds the real binary
// with the same -ldflags the release build uses, so a renamed version or
// commit variable, or a broken signal path, fails here and not in a deploy.
func TestBinaryReportsItsBuildAndStopsCleanlyOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	_, bin := buildBinary(t, "-ldflags", "-X main.version=v9.9.9-dirty -X main.commit=feedc0de -X main.dirty=true")
	cmd, port := startBinary(t, bin, "SLIPWAY_STACK=pr-7-blue", "SHUTDOWN_TIMEOUT=5s")

	var got map[string]any
	getJSON(t, "http://127.0.0.1:"+port+"/version", &got)
	if got["version"] != "v9.9.9-dirty" || got["commit"] != "feedc0de" || got["dirty"] != true || got["stack"] != "pr-7-blue" {
		t.Errorf("/version = %v, want version v9.9.9-dirty, commit feedc0de, dirty true, stack pr-7-blue", got)
	}

	hc := exec.Command(bin, "-healthcheck")
	hc.Env = append(os.Environ(), "PORT="+port)
	if out, err := hc.CombinedOutput(); err != nil {
		t.Errorf("sample-app -healthcheck = %v, want exit 0\n%s", err, out)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("after SIGTERM the binary exited with %v, want status 0", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the binary did not exit within 5s of SIGTERM")
	}
}

// buildBinary compiles the sample app static, as the image build does, with
// extra go build flags, and returns the go command and the binary.
func buildBinary(t *testing.T, flags ...string) (goBin, bin string) {
	t.Helper()
	goBin = testenv.Binary(t, "go", "install Go from https://go.dev/dl/")
	bin = filepath.Join(t.TempDir(), "sample-app")
	args := append(append([]string{"build", "-o", bin}, flags...), ".")
	build := exec.CommandContext(t.Context(), goBin, args...)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return goBin, bin
}

// startBinary runs bin on a free port with env added and returns it once
// it logs that it listens, with that port; the rest of its log is read and
// dropped. It is killed when the test ends.
func startBinary(t *testing.T, bin string, env ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), "PORT=0"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatalf("stderr pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	port := waitForPort(t, bufio.NewScanner(stderr))
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	return cmd, port
}

var addrPattern = regexp.MustCompile(`msg=listening addr=\S*:(\d+)`)

// waitForPort reads the log until the "listening" line and returns its port.
func waitForPort(t *testing.T, lines *bufio.Scanner) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if m := addrPattern.FindStringSubmatch(lines.Text()); m != nil {
				found <- m[1]
				return
			}
		}
		close(found)
	}()
	select {
	case port, ok := <-found:
		if !ok {
			t.Fatal("the binary exited before it logged its address")
		}
		return port
	case <-time.After(10 * time.Second):
		t.Fatal("the binary did not log a listening address within 10s")
	}
	return ""
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode %s: %v", url, err)
	}
}
