// Package examples holds apps in other languages that adopt Slipway the way
// a team does (`slipway init`), and the tests that keep them working: each
// app's own tests pass against the app run directly, no Docker needed, and
// each slipway.yaml is the one init writes.
package examples

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/manifest"
	"github.com/slipway/slipway/internal/scaffold"
	"github.com/slipway/slipway/internal/testenv"
)

// copyExample copies examples/<name> into a directory of the same name in
// a temporary directory, without slipway.yaml when keepManifest is false.
func copyExample(t *testing.T, name string, keepManifest bool) string {
	t.Helper()
	src, err := filepath.Abs(name)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), name)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		switch {
		case d.IsDir() && d.Name() == "__pycache__":
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		case rel == manifest.FileName && !keepManifest:
			return nil
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
	return dst
}

// startPythonShop runs `python3 app.py` from dir on a free loopback port,
// as the container would with PORT and SLIPWAY_STACK set, and returns its
// URL once /health answers. The app is stopped with SIGTERM when the test
// ends, and must exit 0.
func startPythonShop(t *testing.T, dir string, env ...string) string {
	t.Helper()
	python := testenv.Binary(t, "python3", "install Python 3 (Debian: apt-get install python3)")
	port := testenv.FreePort(t)
	cmd := exec.Command(python, "app.py")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"PORT=" + strconv.Itoa(port), "PYTHONDONTWRITEBYTECODE=1"}, env...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start python3 app.py: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("python3 app.py on SIGTERM: %v; want exit 0\n%s", err, out.String())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("python3 app.py did not exit within 10s of SIGTERM\n%s", out.String())
		}
	})
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("python3 app.py exited: %v\n%s", err, out.String())
		default:
		}
		if resp, err := http.Get(url + "/health"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
	}
	t.Fatalf("python3 app.py did not answer on %s/health within 15s\n%s", url, out.String())
	return ""
}

// runAppTests runs the test command of dir's slipway.yaml from its
// directory, as Slipway runs it against a stack (the variables of
// internal/itest; vars, NAME=VALUE, override them), and returns its output
// and error.
func runAppTests(t *testing.T, dir, url, expectStack string, vars ...string) (string, error) {
	t.Helper()
	m, err := manifest.Load(filepath.Join(dir, manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Test.Command) == 0 {
		t.Fatalf("%s has no test.command", m.File)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, m.Test.Command[0], m.Test.Command[1:]...)
	cmd.Dir = m.Dir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1",
		"SLIPWAY_URL="+url, "BASE_URL="+url, "SLIPWAY_BASE_URL="+url, "SLIPWAY_HOST=", "SLIPWAY_STACK_HEADER=",
		"SLIPWAY_EXPECT_STACK="+expectStack, "SLIPWAY_EXPECT_COMMIT=", "SLIPWAY_ENV=preview")
	cmd.Env = append(cmd.Env, vars...) // the last value of a name wins
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestPythonShopPassesItsTestsAgainstTheAppRunDirectly(t *testing.T) {
	dir := copyExample(t, "python-shop", true)
	const stack, message = "python-shop-pr-1", `Spring sale: <b>everything</b> & more`
	url := startPythonShop(t, dir, "SLIPWAY_STACK="+stack, "APP_MESSAGE="+message)

	out, err := runAppTests(t, dir, url, stack)
	if err != nil {
		t.Fatalf("the app's tests failed against it: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Ran 4 tests") || !strings.Contains(out, "\nOK") || strings.Contains(out, "skipped") {
		t.Errorf("the app's tests: want 4 run, none skipped, OK:\n%s", out)
	}

	if status, body := get(t, url+"/"); status != http.StatusOK || !strings.Contains(body, html.EscapeString(message)) {
		t.Errorf("GET / = %d:\n%s\nwant APP_MESSAGE on the page, HTML-escaped", status, body)
	}
	var health struct{ Status, Stack string }
	if status, body := get(t, url+"/health"); status != http.StatusOK || json.Unmarshal([]byte(body), &health) != nil || health.Stack != stack {
		t.Errorf("GET /health = %d %s; want 200 and the stack %s", status, body, stack)
	}
}

// The tests can fail: against an app that reports another stack and whose
// page is broken, and without SLIPWAY_URL.
func TestPythonShopTestsFailAgainstTheWrongApp(t *testing.T) {
	testenv.Binary(t, "python3", "install Python 3 (Debian: apt-get install python3)")
	dir := copyExample(t, "python-shop", true)
	wrong := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			fmt.Fprint(w, `{"status": "ok", "stack": "python-shop-prod-a"}`)
			return
		}
		http.Error(w, "broken", http.StatusInternalServerError)
	}))
	defer wrong.Close()
	out, err := runAppTests(t, dir, wrong.URL, "python-shop-pr-1")
	if err == nil || !strings.Contains(out, "FAILED (failures=3)") {
		t.Errorf("the app's tests against a wrong app: %v; want three failures (stack, page, 404):\n%s", err, out)
	}
	out, err = runAppTests(t, dir, "", "")
	if err == nil || !strings.Contains(out, "SLIPWAY_URL is not set") {
		t.Errorf("the app's tests without SLIPWAY_URL: %v; want a failure that says so:\n%s", err, out)
	}
}

// On the local target the tests reach the router on 127.0.0.1 with the
// stack's host name in SLIPWAY_HOST, and a release is tested before it has
// traffic through X-Slipway-Stack: the tests send both.
func TestPythonShopTestsReachTheStackThroughTheRoutersHeaders(t *testing.T) {
	dir := copyExample(t, "python-shop", true)
	const stack, host = "python-shop-prod-b", "python-shop.localhost"
	app := startPythonShop(t, dir, "SLIPWAY_STACK="+stack)
	target, err := url.Parse(app)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	router := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != host || r.Header.Get("X-Slipway-Stack") != stack {
			http.Error(w, fmt.Sprintf("no route for Host %q, X-Slipway-Stack %q", r.Host, r.Header.Get("X-Slipway-Stack")), http.StatusMisdirectedRequest)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer router.Close()
	out, err := runAppTests(t, dir, router.URL, stack, "SLIPWAY_HOST="+host, "SLIPWAY_STACK_HEADER="+stack, "SLIPWAY_ENV=production")
	if err != nil {
		t.Errorf("the app's tests through a router that routes by Host and X-Slipway-Stack: %v\n%s", err, out)
	}
}

func TestPythonShopSlipwayYAMLIsWhatInitWrites(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("python-shop", manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	got, spec, err := scaffold.Manifest(copyExample(t, "python-shop", false), scaffold.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("init writes for python-shop:\n%s\nexamples/python-shop/slipway.yaml is:\n%s", got, want)
	}
	if spec.Port == manifest.DefaultPort || spec.Health == manifest.DefaultHealthPath {
		t.Errorf("python-shop serves port %d, health %s; want a port other than %d and a health path other than %s, found by init",
			spec.Port, spec.Health, manifest.DefaultPort, manifest.DefaultHealthPath)
	}
}

func TestPythonShopImageIsDebianWithPythonFromAptAsANonRootUser(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("python-shop", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(data)
	for _, want := range []string{
		"\nFROM debian:bookworm-slim\n",
		"\nRUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*\n",
		"\nUSER 10001:10001\n",
		"\nEXPOSE 5000\n",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q:\n%s", strings.TrimSpace(want), df)
		}
	}
	ignore, err := os.ReadFile(filepath.Join("python-shop", ".dockerignore"))
	if err != nil || !strings.Contains(string(ignore), "!app.py") {
		t.Errorf(".dockerignore: %v; want only app.py in the build context:\n%s", err, ignore)
	}
}
