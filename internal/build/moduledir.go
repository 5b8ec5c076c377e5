package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ModuleDir finds the directory of the checkout's go.mod from the working
// directory upwards: Slipway's own, or the repository of an app that
// adopted Slipway (its magefiles' module).
func ModuleDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find working directory: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("find go.mod: run the targets from inside your app's repository (`slipway init` writes its go.mod) or Slipway's checkout")
		}
	}
}

// SlipwayModule is the directory of Slipway's module as the checkout in
// dir uses it: dir itself in Slipway's own checkout, else where the go
// command has it (a replace to a local checkout, or the module cache).
// The local target builds its router from there.
func SlipwayModule(ctx context.Context, dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, "cmd", "slipway-router")); err == nil {
		return dir, nil
	}
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "github.com/slipway/slipway")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("find Slipway's module from %s (its router is built from there): %w; is github.com/slipway/slipway required in its go.mod? (`slipway init` adds it)", dir, err)
	}
	d := strings.TrimSpace(string(out))
	if d == "" {
		return "", fmt.Errorf("find Slipway's module from %s: the go command has not downloaded it: run `go mod download github.com/slipway/slipway`", dir)
	}
	return d, nil
}
