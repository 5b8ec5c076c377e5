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
	"sync"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/testenv"
)

// mage runs `go run mage.go <args>` from the module root as a user would,
// with env added, and returns stdout and stderr. The router's stack ports
// are a free range of the test's own (env may set another), so that
// routers of tests running at once, or a demo left running, never meet.
func mage(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append([]string{"run", "mage.go"}, args...)...)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(append(os.Environ(), "SLIPWAY_ROUTER_STACK_PORTS="+stackPortsOf(t)), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// stackPorts holds each test's range of stack ports.
var stackPorts sync.Map // *testing.T -> string

// stackPortsOf is the test's range of 10 stack ports, free on 127.0.0.1
// when first asked for.
func stackPortsOf(t *testing.T) string {
	if r, ok := stackPorts.Load(t); ok {
		return r.(string)
	}
	first, last := testenv.FreePortRange(t, 10)
	r, _ := stackPorts.LoadOrStore(t, fmt.Sprintf("%d-%d", first, last))
	return r.(string)
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
		if _, stderr, err := mage(t, env, "local:down", "-deleteData"); err != nil {
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
	// Outside Actions with no way to reach GitHub, one line says so; the
	// user named a pull request, so that line is a warning.
	if lines := githubLines(stderr); len(lines) != 1 || !strings.Contains(lines[0], "nothing is reported to pull request #7") {
		t.Errorf("preview:deploy -pr=7 without GitHub access should say once that nothing is reported to #7, said %q", lines)
	}
	branch := currentBranch(t)
	if branch != "" {
		// A branch preview, as a user without a pull request deploys it.
		_, stderr, err := mage(t, env, "preview:deploy")
		if err != nil {
			t.Fatalf("preview:deploy of branch %s: %v\n%s", branch, err, stderr)
		}
		if lines := githubLines(stderr); len(lines) != 1 || !strings.Contains(lines[0], "nothing is reported to GitHub") || strings.Contains(lines[0], "warning") {
			t.Errorf("a branch preview without GitHub access should say once, quietly, that nothing is reported to GitHub, said %q", lines)
		}
		t.Cleanup(func() {
			if _, stderr, err := mage(t, env, "preview:destroy"); err != nil {
				t.Errorf("preview:destroy of branch %s: %v\n%s", branch, err, stderr)
			}
		})
	}
	// Invalid pull request numbers fail before anything is touched.
	for _, bad := range []struct {
		env  []string
		args []string
	}{
		{nil, []string{"preview:destroy", "-pr=99999999999"}},
		{[]string{"SLIPWAY_PR=99999999999"}, []string{"preview:destroy"}},
		{[]string{"SLIPWAY_PR=seven"}, []string{"preview:destroy"}},
		{nil, []string{"preview:deploy", "-pr=99999999999"}},
		{nil, []string{"preview:deploy", "-pr=abc"}},
	} {
		_, stderr, err := mage(t, append(append([]string(nil), env...), bad.env...), bad.args...)
		if err == nil || !strings.Contains(stderr, "not a pull request number") || strings.Contains(stderr, "can't convert") {
			t.Errorf("%v %v exited 0 or did not say the number is wrong in words: %v\n%s", bad.env, bad.args, err, stderr)
		}
	}
	status, stderr, err := mage(t, env, "status")
	if err != nil || !strings.Contains(status, app+"-pr-7") || (branch != "" && !strings.Contains(status, app+"-br-")) {
		t.Fatalf("a preview went missing after the invalid numbers: %v\n%s\n%s", err, status, stderr)
	}
	// A mistyped stack is refused, naming the previews there are.
	if _, stderr, err := mage(t, env, "preview:destroy", "-stack="+app+"-pr-77"); err == nil || !strings.Contains(stderr, "no such stack") || !strings.Contains(stderr, app+"-pr-7") {
		t.Errorf("preview:destroy -stack of a stack that does not exist: %v, want a failure listing the previews:\n%s", err, stderr)
	}
	// A target's help shows the command as this checkout runs it.
	if help, stderr, err := mage(t, nil, "-h", "preview:deploy"); err != nil || !strings.Contains(help, "go run mage.go preview:deploy [") ||
		!strings.Contains(help, "-pr=<string>") || !strings.Contains(help, "-diff=<bool>") {
		t.Errorf("help of preview:deploy: %v\n%s\n%s", err, help, stderr)
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

	status, stderr, err = mage(t, env, "status")
	if err != nil || !strings.Contains(status, app+"-pr-7") || !strings.Contains(status, wantURL) || !strings.Contains(status, "healthy") ||
		!strings.Contains(status, "CONTAINER") || !strings.Contains(status, app+"-router") {
		t.Fatalf("status: %v\n%s\n%s", err, status, stderr)
	}
	// test:integration with the URL deploy printed and the short commit
	// status shows.
	commit := commitInStatus(t, status, app+"-pr-7")
	if out, stderr, err := mage(t, env, "test:integration", wantURL, "-commit="+commit); err != nil || !strings.Contains(out, "3 passed, 0 failed") {
		t.Fatalf("test:integration %s -commit=%s: %v\n%s\n%s", wantURL, commit, err, out, stderr)
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
	// Its own image tag went with it; the image of the commit stays.
	cli := testenv.Docker(t)
	if _, err := cli.ImageInspect(t.Context(), "slipway-test/"+app+":pr-7"); err == nil {
		t.Errorf("preview:destroy -pr=7 left the image tag slipway-test/%s:pr-7", app)
	}
	if branch != "" {
		if _, err := cli.ImageInspect(t.Context(), "slipway-test/"+app+":"+strings.Replace(commit, "+dirty", "-dirty", 1)); err != nil {
			t.Errorf("the commit's image went with the preview's tag (the branch preview still uses it): %v", err)
		}
	}
}

// commitInStatus is the COMMIT column of stack's row in the status table.
func commitInStatus(t *testing.T, status, stack string) string {
	t.Helper()
	for _, l := range strings.Split(status, "\n") {
		if f := strings.Fields(l); len(f) > 3 && f[0] == stack {
			return f[3]
		}
	}
	t.Fatalf("status has no row for %s:\n%s", stack, status)
	return ""
}

// githubLines are the lines of a run's progress that speak of GitHub.
func githubLines(stderr string) []string {
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "github:") {
			lines = append(lines, l)
		}
	}
	return lines
}

// currentBranch is the checked-out branch, or "" on a detached HEAD.
func currentBranch(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "rev-parse", "--abbrev-ref", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse: %v", err)
	}
	if b := strings.TrimSpace(string(out)); b != "HEAD" {
		return b
	}
	return ""
}

// AWS credentials on a laptop do not switch the target; config says how.
func TestAWSCredentialsAloneKeepTheLocalTarget(t *testing.T) {
	out, stderr, err := mage(t, []string{"AWS_PROFILE=dev", "AWS_ACCESS_KEY_ID=AKIAEXAMPLE", "SLIPWAY_TARGET="}, "config")
	if err != nil {
		t.Fatalf("config: %v\n%s", err, stderr)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "SLIPWAY_TARGET ") {
			if !strings.Contains(l, " local ") || !strings.Contains(l, "set SLIPWAY_TARGET=aws") {
				t.Fatalf("config with AWS credentials: %q, want the local target and how to switch", l)
			}
			return
		}
	}
	t.Fatalf("config printed no SLIPWAY_TARGET line:\n%s", out)
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

// A new user with AWS credentials on the laptop (and even SLIPWAY_TARGET=aws
// left over) runs the demo: it runs on this machine and says so, releases
// v2 over v1 and rolls back, and production serves v1 at the end. Run
// again from a clean checkout, it makes no new stacks.
func TestDemoWithAWSSettingsRunsLocallyAndShowsARollback(t *testing.T) {
	testenv.Docker(t)
	app := randomApp(t, "td")
	port := strconv.Itoa(testenv.FreePort(t))
	env := []string{
		"SLIPWAY_APP=" + app, "SLIPWAY_TARGET=aws", "AWS_PROFILE=dev", "SLIPWAY_ROUTER_PORT=" + port, "SLIPWAY_ROUTER_ADMIN_PORT=" + strconv.Itoa(testenv.FreePort(t)),
		"SLIPWAY_APP_IMAGE=slipway-test/" + app, "SLIPWAY_ROUTER_IMAGE=slipway-test/router",
		"GITHUB_ACTIONS=", "GITHUB_EVENT_PATH=", "GH_TOKEN=", "GITHUB_TOKEN=", "GH_CONFIG_DIR=" + t.TempDir(),
	}
	t.Cleanup(func() {
		down := append(append([]string(nil), env...), "SLIPWAY_TARGET=local")
		if _, stderr, err := mage(t, down, "local:down", "-deleteData"); err != nil {
			t.Errorf("local:down: %v\n%s", err, stderr)
		}
	})
	out, stderr, err := mage(t, env, "demo")
	if err != nil {
		t.Fatalf("demo with SLIPWAY_TARGET=aws and AWS_PROFILE set: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "target: local, not aws: the demo always runs on the local target") {
		t.Errorf("demo does not say it runs locally:\n%s", stderr)
	}
	for _, want := range []string{fmt.Sprintf("http://%s.localhost:%s", app, port), fmt.Sprintf("http://pr-1.%s.localhost:%s", app, port)} {
		if !strings.Contains(out, want) {
			t.Errorf("demo did not print %s:\n%s", want, out)
		}
	}
	first := demoSteps(t, out)
	if first["production v1"] == first["released v2"] || first["rolled back"] != first["production v1"] {
		t.Fatalf("demo should release v2 on a new stack and roll back to v1's: %v\n%s", first, out)
	}
	if page := getProduction(t, app, port); !strings.Contains(page, "Production v1") {
		t.Errorf("after the demo production should serve v1:\n%s", page)
	}

	out, stderr, err = mage(t, env, "demo")
	if err != nil {
		t.Fatalf("demo run again: %v\n%s", err, stderr)
	}
	again := demoSteps(t, out)
	if again["rolled back"] != again["production v1"] || again["rolled back"] == again["released v2"] {
		t.Fatalf("demo run again should still roll back to v1: %v\n%s", again, out)
	}
	if !checkoutClean(t) {
		t.Logf("the checkout has uncommitted changes: each demo run builds a new image, so its stacks are new (%v, then %v)", first, again)
		return
	}
	for step, stack := range first {
		if again[step] != stack {
			t.Errorf("demo run again from a clean checkout: %s on stack %s, the first run used %s: re-runs must not make new stacks\n%s", step, again[step], stack, out)
		}
	}
}

// demoSteps maps the demo's production lines ("production v1", "released
// v2", "rolled back") to the stack each names.
func demoSteps(t *testing.T, out string) map[string]string {
	t.Helper()
	steps := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		for _, step := range []string{"production v1", "released v2", "rolled back"} {
			if rest, ok := strings.CutPrefix(l, step); ok {
				if _, after, ok := strings.Cut(rest, "(stack "); ok {
					steps[step] = strings.FieldsFunc(after, func(r rune) bool { return r == ' ' || r == ')' })[0]
				}
			}
		}
	}
	if len(steps) != 3 {
		t.Fatalf("the demo should print the release of v1, of v2 and the rollback, printed:\n%s", out)
	}
	return steps
}

// getProduction fetches the production page through the router.
func getProduction(t *testing.T, app, port string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+port+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = app + ".localhost"
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET production: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET production: %d %v\n%s", resp.StatusCode, err, body)
	}
	return string(body)
}

// checkoutClean reports whether the checkout has no uncommitted changes to
// tracked files.
func checkoutClean(t *testing.T) bool {
	t.Helper()
	out, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output()
	if err != nil {
		t.Fatalf("git status: %v", err)
	}
	return strings.TrimSpace(string(out)) == ""
}
