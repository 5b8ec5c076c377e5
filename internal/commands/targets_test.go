package commands_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/testenv"
)

// mage runs `go run mage.go <args>` from the module root as a user would,
// with env added, and returns stdout and stderr.
func mage(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append([]string{"run", "mage.go"}, args...)...)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// The targets a user types: deploy a preview, see it in status, open it,
// destroy it twice, and take everything down.
func TestPreviewTargetsAsAUserRunsThem(t *testing.T) {
	testenv.Docker(t)
	var rnd [3]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	app := "tt" + hex.EncodeToString(rnd[:])
	port := strconv.Itoa(testenv.FreePort(t))
	env := []string{
		"SLIPWAY_APP=" + app, "SLIPWAY_TARGET=local", "SLIPWAY_ROUTER_PORT=" + port, "SLIPWAY_ROUTER_ADMIN_PORT=" + strconv.Itoa(testenv.FreePort(t)),
		"SLIPWAY_APP_IMAGE=slipway-test/" + app, "SLIPWAY_ROUTER_IMAGE=slipway-test/router", "APP_MESSAGE=hello from the target test",
		"GITHUB_ACTIONS=", "GITHUB_EVENT_PATH=", "GH_TOKEN=", "GITHUB_TOKEN=", "GH_CONFIG_DIR=" + t.TempDir(),
	}
	t.Cleanup(func() {
		if _, stderr, err := mage(t, env, "local:down"); err != nil {
			t.Errorf("local:down: %v\n%s", err, stderr)
		}
	})
	out, stderr, err := mage(t, env, "preview:deploy", "-pr=7")
	if err != nil {
		t.Fatalf("preview:deploy: %v\n%s", err, stderr)
	}
	wantURL := fmt.Sprintf("http://pr-7.%s.localhost:%s", app, port)
	if strings.TrimSpace(out) != wantURL {
		t.Fatalf("preview:deploy printed %q on stdout, want only the URL %s", out, wantURL)
	}
	if !strings.Contains(stderr, "3 passed, 0 failed") {
		t.Fatalf("the integration tests should run against the preview:\n%s", stderr)
	}
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+port+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = fmt.Sprintf("pr-7.%s.localhost", app)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(page), "hello from the target test") {
		t.Fatalf("preview page: %d %v\n%s", resp.StatusCode, err, page)
	}

	status, stderr, err := mage(t, env, "status")
	if err != nil || !strings.Contains(status, app+"-pr-7") || !strings.Contains(status, wantURL) || !strings.Contains(status, "healthy") {
		t.Fatalf("status: %v\n%s\n%s", err, status, stderr)
	}
	for i := 1; i <= 2; i++ {
		if _, stderr, err := mage(t, env, "preview:destroy", "-pr=7"); err != nil {
			t.Fatalf("preview:destroy #%d: %v\n%s", i, err, stderr)
		}
	}
	status, _, err = mage(t, env, "status")
	if err != nil || strings.Contains(status, app+"-pr-7") {
		t.Fatalf("the destroyed preview is still listed: %v\n%s", err, status)
	}
	resp, err = http.DefaultClient.Do(req) // the destroyed preview's host, like the ALB's default action
	if err != nil {
		t.Fatal(err)
	}
	page, err = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusNotFound || !strings.Contains(string(page), "no environment matches this host: \""+req.Host+"\"") {
		t.Fatalf("the destroyed preview's host answers %d %v\n%s\nwant 404 naming the host", resp.StatusCode, err, page)
	}
}

func TestBadConfigurationListsEveryProblem(t *testing.T) {
	_, stderr, err := mage(t, []string{"SLIPWAY_APP=Bad App", "SLIPWAY_ROUTER_PORT=0", "SLIPWAY_TARGET=gcp"}, "status")
	combined := stderr
	if err == nil {
		t.Fatal("status with a bad configuration succeeded")
	}
	for _, want := range []string{"SLIPWAY_APP", "SLIPWAY_ROUTER_PORT", "SLIPWAY_TARGET"} {
		if !strings.Contains(combined, want) {
			t.Errorf("the error does not name %s:\n%s", want, combined)
		}
	}
}
