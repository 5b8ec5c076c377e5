package examples

import (
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

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"

	"github.com/slipway/slipway/internal/testenv"
)

// adoptionSteps are the command lines of README.md's adoption steps, as
// written there.
func adoptionSteps(t *testing.T, root string) []string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "<!-- adoption-steps")
	block, _, ok2 := strings.Cut(block, "<!-- /adoption-steps -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no adoption steps between <!-- adoption-steps … --> and <!-- /adoption-steps -->")
	}
	var steps []string
	for _, line := range strings.Split(block, "\n") {
		if strings.HasPrefix(line, "go run") || strings.HasPrefix(line, "git ") {
			steps = append(steps, line)
		}
	}
	if len(steps) < 5 {
		t.Fatalf("README's adoption steps are %q: want init, a commit, preview:deploy, release, rollback…", steps)
	}
	return steps
}

// initFromReleased is the adoption step that runs a released Slipway;
// here nothing can be downloaded, so the test runs this checkout's init
// with a replace to it instead (what `-replace` is for).
const initFromReleased = "go run github.com/slipway/slipway/cmd/slipway@latest init"

// A team's repository that is not Slipway's, with an app in Python, adopts
// Slipway by README.md's steps as written, and gets a preview (served, its
// own tests passed against SLIPWAY_URL), a release, a second release after
// a commit, a rollback to the first, the preview's destroy and local:down
// leaving nothing of the app in Docker.
func TestAnotherRepositoryAdoptsSlipwayByTheREADME(t *testing.T) {
	cli := testenv.Docker(t)
	testenv.Binary(t, "python3", "install Python 3: the example app's tests are Python")
	ctx := context.Background()
	if _, err := cli.ImageInspect(ctx, "debian:bookworm-slim"); err != nil {
		testenv.Missing(t, "debian:bookworm-slim", "run scripts/setup-debian.sh, which makes it with mmdebstrap (a user's machine pulls it)")
	}
	root := testenv.ModuleDir(t)
	var rnd [3]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	app := "shop" + hex.EncodeToString(rnd[:])
	dir := filepath.Join(t.TempDir(), app) // init names the app after its directory
	testenv.CopyDir(t, filepath.Join(root, "examples", "python-shop"), dir)
	if err := os.Remove(filepath.Join(dir, "slipway.yaml")); err != nil { // init writes it
		t.Fatal(err)
	}
	testenv.SeedGoSum(t, root, dir)
	routerPort, adminPort := testenv.FreePort(t), testenv.FreePort(t)
	first, last := testenv.FreePortRange(t, 4)
	var env []string
	for _, kv := range os.Environ() { // the caller's APP_* would be the app's
		if !strings.HasPrefix(kv, "APP_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"GOPROXY=off", "GOWORK=off", "GOFLAGS=-mod=mod",
		"SLIPWAY_TARGET=local", "SLIPWAY_ROUTER_PORT="+strconv.Itoa(routerPort), "SLIPWAY_ROUTER_ADMIN_PORT="+strconv.Itoa(adminPort),
		fmt.Sprintf("SLIPWAY_ROUTER_STACK_PORTS=%d-%d", first, last),
		"SLIPWAY_APP=", "SLIPWAY_APP_IMAGE=", "SLIPWAY_DATABASE=", "SLIPWAY_PR=",
		"GITHUB_ACTIONS=", "GITHUB_EVENT_PATH=", "GH_TOKEN=", "GITHUB_TOKEN=", "GH_CONFIG_DIR="+t.TempDir(),
		"GIT_AUTHOR_NAME=Shop Team", "GIT_AUTHOR_EMAIL=team@example.com", "GIT_COMMITTER_NAME=Shop Team", "GIT_COMMITTER_EMAIL=team@example.com",
	)
	run := func(t *testing.T, dir string, args ...string) (string, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir, cmd.Env = dir, env
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s\n%s", strings.Join(args, " "), err, out.String(), errb.String())
		}
		return out.String(), errb.String()
	}
	t.Cleanup(func() {
		cmd := exec.Command("go", "run", "mage.go", "local:down", "-deleteData")
		cmd.Dir, cmd.Env = dir, env
		_ = cmd.Run() // the test's own local:down step is what is asserted
	})
	run(t, dir, "git", "init", "-q", "-b", "main")
	page := func(t *testing.T, host string) string {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(routerPort)+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatalf("GET / on %s: %v", host, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET / on %s: %d %v\n%s", host, resp.StatusCode, err, body)
		}
		return string(body)
	}
	production := app + ".localhost"
	released := 0
	for _, step := range adoptionSteps(t, root) {
		start := time.Now()
		var out, stderr string
		if step == initFromReleased {
			out, stderr = run(t, root, "go", "run", "./cmd/slipway", "init", "-replace="+root, dir)
		} else {
			out, stderr = run(t, dir, "sh", "-c", step)
		}
		t.Logf("%s (%s)", step, time.Since(start).Round(100*time.Millisecond))
		switch {
		case step == initFromReleased:
			for _, f := range []string{"slipway.yaml", "magefiles/magefile.go", "mage.go", "go.mod", ".github/workflows/slipway-preview.yml"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Fatalf("init did not write %s: %v\n%s%s", f, err, out, stderr)
				}
			}
		case strings.Contains(step, "preview:deploy"):
			want := fmt.Sprintf("http://pr-1.%s.localhost:%d", app, routerPort)
			if strings.TrimSpace(out) != want || !strings.Contains(stderr, "integration: passed (exit 0)") {
				t.Fatalf("preview:deploy printed %q, want %s, and its tests passing against SLIPWAY_URL:\n%s", out, want, stderr)
			}
			if body := page(t, "pr-1."+app+".localhost"); !strings.Contains(body, "Welcome to the shop.") {
				t.Fatalf("the preview serves:\n%s", body)
			}
		case strings.HasSuffix(step, "mage.go release"):
			released++
			if body := page(t, production); !strings.Contains(body, "Welcome to the shop.") {
				t.Fatalf("production after the first release serves:\n%s", body)
			}
			// A second release, after a commit that changes the app's
			// environment in slipway.yaml.
			f, err := os.OpenFile(filepath.Join(dir, "slipway.yaml"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString("env:\n  APP_MESSAGE: Summer sale\n"); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			run(t, dir, "git", "commit", "-q", "-am", "Summer sale")
			run(t, dir, "go", "run", "mage.go", "release")
			if body := page(t, production); !strings.Contains(body, "Summer sale") {
				t.Fatalf("production after the second release serves:\n%s", body)
			}
		case strings.HasSuffix(step, "mage.go rollback"):
			if body := page(t, production); !strings.Contains(body, "Welcome to the shop.") || strings.Contains(body, "Summer sale") {
				t.Fatalf("production after the rollback serves:\n%s", body)
			}
		case strings.Contains(step, "local:down"):
			f := filters.NewArgs(filters.Arg("label", "dev.slipway.app="+app))
			cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
			if err != nil {
				t.Fatal(err)
			}
			ns, err := cli.NetworkList(ctx, network.ListOptions{Filters: f})
			if err != nil {
				t.Fatal(err)
			}
			vs, err := cli.VolumeList(ctx, volume.ListOptions{Filters: f})
			if err != nil {
				t.Fatal(err)
			}
			if len(cs)+len(ns)+len(vs.Volumes) != 0 {
				t.Fatalf("after local:down %s still has %d containers, %d networks, %d volumes", app, len(cs), len(ns), len(vs.Volumes))
			}
		}
	}
	if released != 1 {
		t.Fatalf("README's adoption steps released %d times, want once", released)
	}
}
