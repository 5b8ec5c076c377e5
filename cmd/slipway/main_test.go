package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/testenv"
)

func runSlipway(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsageErrorsSayWhatIsWrongAndExitTwo(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"no command", nil, 2, "usage: slipway init [flags] [dir]"},
		{"an unknown command", []string{"deploy"}, 2, `unknown command "deploy": the one command is init`},
		{"an unknown flag", []string{"init", "-nope"}, 2, "flag provided but not defined: -nope"},
		{"a port that is not a number", []string{"init", "-port=http"}, 2, `invalid value "http" for flag -port`},
		{"two directories", []string{"init", "a", "b"}, 2, "one directory, got 2 (a b)"},
		{"a flag after the directory", []string{"init", ".", "-force"}, 2, "flag -force after the directory .: put the flags first"},
		{"a test command with quotes", []string{"init", `-test=sh -c "npm test"`}, 2, "edit test.command in slipway.yaml"},
		{"an empty test command", []string{"init", "-test= "}, 2, "empty command"},
		{"help", []string{"-h"}, 0, "-replace dir"},
		{"init's help", []string{"init", "-h"}, 0, "the Dockerfile's EXPOSE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runSlipway(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("slipway %q = exit %d, stderr:\n%s\nwant exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
			}
		})
	}
}

func TestInitFailsWithTheFlagsToPass(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM debian\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runSlipway(t, "init", "-replace=/nowhere", dir)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "pass -port=N") || !strings.Contains(stderr, "pass -test=") {
		t.Errorf("slipway init = exit %d, stdout %q, stderr:\n%s\nwant exit 1 naming -port and -test", code, stdout, stderr)
	}
}

// A checkout's build has no released version to require: init then needs
// -version or -replace.
func TestACheckoutsBuildHasNoVersionToRequire(t *testing.T) {
	if v := buildVersion(); v != "" {
		t.Errorf("buildVersion() = %q in a test binary built from the checkout; want \"\"", v)
	}
}

func TestInitScaffoldsTheExampleThenHasNothingToWrite(t *testing.T) {
	root := testenv.ModuleDir(t)
	dir := filepath.Join(t.TempDir(), "python-shop")
	testenv.CopyDir(t, filepath.Join(root, "examples", "python-shop"), dir)
	if err := os.Remove(filepath.Join(dir, "slipway.yaml")); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	// Offline: go get finds Slipway's dependencies in the module cache,
	// their checksums in Slipway's go.sum.
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOPROXY", "off")

	code, stdout, stderr := runSlipway(t, "init", "-replace="+root, dir)
	if code != 0 {
		t.Fatalf("slipway init = exit %d:\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"wrote      slipway.yaml", "wrote      magefiles/magefile.go", "wrote      mage.go", "wrote      go.mod",
		"wrote      .github/workflows/slipway-preview.yml", "go run mage.go preview:deploy -pr=1"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("slipway init's output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, stderr = runSlipway(t, "init", "-replace="+root, dir)
	if code != 0 || !strings.Contains(stdout, "nothing to write") || strings.Contains(stdout, "wrote ") {
		t.Errorf("second slipway init = exit %d:\n%s%s\nwant nothing written, and said", code, stdout, stderr)
	}
}
