package commands_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/slipway/slipway/internal/testenv"
)

// actionsEnv is what GitHub Actions sets for a run triggered by the event
// in the fixture, with no token (as on a fork's pull request).
func actionsEnv(t *testing.T, app, event, fixture string) (env []string, summary string) {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "github", "testdata", "events", fixture))
	if err != nil {
		t.Fatal(err)
	}
	summary = filepath.Join(t.TempDir(), "summary.md")
	return []string{
		"SLIPWAY_APP=" + app, "SLIPWAY_TARGET=local", "SLIPWAY_ROUTER_PORT=" + strconv.Itoa(testenv.FreePort(t)), "SLIPWAY_ROUTER_ADMIN_PORT=" + strconv.Itoa(testenv.FreePort(t)),
		"SLIPWAY_APP_IMAGE=slipway-test/" + app, "SLIPWAY_ROUTER_IMAGE=slipway-test/router", "SLIPWAY_PR=",
		"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=" + event, "GITHUB_EVENT_PATH=" + path, "GITHUB_REPOSITORY=listendev/lstn",
		"GITHUB_STEP_SUMMARY=" + summary,
		"GH_TOKEN=", "GITHUB_TOKEN=", "GH_CONFIG_DIR=" + t.TempDir(),
	}, summary
}

func randomApp(t *testing.T, prefix string) string {
	t.Helper()
	var rnd [3]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(rnd[:])
}

// countingEndpoint is an AWS endpoint on loopback that counts the
// connections made to it and answers none of them.
func countingEndpoint(t *testing.T) (url string, connections *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	connections = &atomic.Int64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			connections.Add(1)
			_ = c.Close()
		}
	}()
	return "http://" + ln.Addr().String(), connections
}

// A fork's pull request in Actions, with SLIPWAY_TARGET=aws, credentials and
// an AWS endpoint set: no AWS call at all (zero connections to the
// endpoint), a clear line saying why, and the preview deployed and tested
// on the runner with the local target; a read-only (here: absent) token
// does not fail the deploy.
func TestForkPullRequestInActionsDeploysLocallyAndSaysWhy(t *testing.T) {
	testenv.Docker(t)
	app := randomApp(t, "tf")
	env, summary := actionsEnv(t, app, "pull_request", "pull_request.opened.fork.json")
	endpoint, connections := countingEndpoint(t)
	env = append(env, "SLIPWAY_TARGET=aws", "SLIPWAY_AWS_ENDPOINT="+endpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_PROFILE=", "AWS_EC2_METADATA_DISABLED=true")
	t.Cleanup(func() {
		if _, stderr, err := mage(t, env, "local:down", "-deleteData"); err != nil {
			t.Errorf("local:down: %v\n%s", err, stderr)
		}
	})
	out, stderr, err := mage(t, env, "preview:deploy")
	if err != nil {
		t.Fatalf("preview:deploy of a fork: %v\n%s", err, stderr)
	}
	if n := connections.Load(); n != 0 {
		t.Errorf("a fork's preview made %d connections to the AWS endpoint, want none:\n%s", n, stderr)
	}
	if !strings.Contains(stderr, "no AWS deploy") || !strings.Contains(strings.ToLower(stderr), "fork") {
		t.Errorf("the log should say the fork gets no AWS deploy and why:\n%s", stderr)
	}
	if want := fmt.Sprintf("http://pr-217.%s.localhost:", app); !strings.HasPrefix(strings.TrimSpace(out), want) {
		t.Errorf("stdout %q, want the URL of pr-217 (%s…)", out, want)
	}
	if !strings.Contains(stderr, "3 passed, 0 failed") {
		t.Errorf("the integration tests should run on the runner:\n%s", stderr)
	}
	md, err := os.ReadFile(summary)
	if err != nil || !strings.Contains(string(md), "No AWS deploy") || !strings.Contains(string(md), "pr-217."+app) {
		t.Errorf("the step summary should give the URL and say why there was no AWS deploy (%v):\n%s", err, md)
	}
}

// Events that are not about a preview change nothing and succeed.
func TestEventsThatAreNotPreviewsAreIgnored(t *testing.T) {
	testenv.Docker(t)
	app := randomApp(t, "ti")
	tests := []struct{ name, event, fixture string }{
		{"a deleted tag", "push", "push.tag-deleted.json"},
		{"a closed pull request, for the deploy target", "pull_request", "pull_request.closed.merged.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := actionsEnv(t, app, tt.event, tt.fixture)
			out, stderr, err := mage(t, env, "preview:deploy")
			if err != nil || out != "" || !strings.Contains(stderr, "nothing to do") {
				t.Fatalf("err %v, stdout %q, stderr:\n%s", err, out, stderr)
			}
		})
	}
	env, _ := actionsEnv(t, app, "push", "push.tag-deleted.json")
	status, stderr, err := mage(t, env, "status")
	if err != nil || !strings.Contains(status, "no stacks") {
		t.Fatalf("ignored events deployed something: %v\n%s\n%s", err, status, stderr)
	}
}
