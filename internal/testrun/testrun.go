// Package testrun is the whole test suite behind `go run mage.go test`: it
// prepares what the tests need that a user does not already have (a Python
// virtual environment with pinned moto, cfn-lint and zizmor), then runs a
// gofmt check, go vet, staticcheck, actionlint and zizmor on the workflows,
// and go test.
package testrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Pinned Python tools, installed into the cache's virtual environment.
var PythonRequirements = []string{"moto[server]==5.2.5", "cfn-lint==1.58.0", "zizmor==1.33.1"}

// Options say where to work and what to print.
type Options struct {
	ModuleDir string
	CacheDir  string    // the venv goes in CacheDir/venv
	GoTest    []string  // extra go test flags, e.g. -race or -run X
	Out, Err  io.Writer // command output and progress
}

// CacheDir is where Slipway keeps what the tests install:
// $SLIPWAY_CACHE, else the user cache dir, else .cache in the module.
func CacheDir(moduleDir string) string {
	if d := os.Getenv("SLIPWAY_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "slipway")
	}
	return filepath.Join(moduleDir, ".cache")
}

// Run runs every step and returns the first failure.
func Run(ctx context.Context, o Options) error {
	venv, err := EnsureVenv(ctx, o)
	if err != nil {
		return err
	}
	if err := gofmtCheck(ctx, o); err != nil {
		return err
	}
	for _, s := range Steps(o.GoTest) {
		fmt.Fprintf(o.Err, "test: %s\n", s.Name)
		cmd := s.Command(ctx, o.ModuleDir, venv)
		cmd.Stdout, cmd.Stderr = o.Out, o.Err
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	return nil
}

// Step is one command of the suite, run from the module's root.
type Step struct {
	Name string
	Args []string
}

// Command returns the step's command, to run in dir. With a venv, its bin
// comes first on PATH (and SLIPWAY_VENV names it), and a tool installed
// there, such as zizmor, runs from it.
func (s Step) Command(ctx context.Context, dir, venv string) *exec.Cmd {
	name, env := s.Args[0], os.Environ()
	if venv != "" {
		bin := filepath.Join(venv, "bin")
		env = append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "SLIPWAY_VENV="+venv)
		if st, err := os.Stat(filepath.Join(bin, name)); err == nil && !st.IsDir() {
			name = filepath.Join(bin, name)
		}
	}
	cmd := exec.CommandContext(ctx, name, s.Args[1:]...)
	cmd.Dir, cmd.Env = dir, env
	return cmd
}

// Zizmor is the security audit of GitHub Actions workflows and composite
// actions under dir (zizmor, pinned in PythonRequirements), for Slipway's
// own .github and for the workflows scaffolded into an app's repository
// alike. It runs offline; a finding of high severity fails it (an action
// referenced by a tag, a dangerous trigger such as pull_request_target,
// ...); lower ones are not reported here (run zizmor without --min-severity
// to see them). Ignore comments in the files count, each with its reason
// next to it; a zizmor.yml under dir does not, so no repository can turn an
// audit off wholesale.
func Zizmor(dir string) Step {
	return Step{"zizmor", []string{"zizmor", "--offline", "--no-config", "--min-severity", "high", "--no-progress", "--color", "never", dir}}
}

// Steps are the suite's commands after the gofmt check, in order. The Go
// linters are tools pinned in go.mod (`go tool`) and zizmor is pinned in the
// venv, so every machine runs the same versions.
func Steps(goTest []string) []Step {
	return []Step{
		{"go vet", []string{"go", "vet", "./..."}},
		{"staticcheck", []string{"go", "tool", "staticcheck", "./..."}},
		{"actionlint", []string{"go", "tool", "actionlint", "-color=false"}},
		Zizmor(".github"),
		{"go test", append(append([]string{"go", "test", "-count=1"}, goTest...), "./...")},
	}
}

func gofmtCheck(ctx context.Context, o Options) error {
	fmt.Fprintln(o.Err, "test: gofmt -l")
	cmd := exec.CommandContext(ctx, "gofmt", "-l", ".")
	cmd.Dir = o.ModuleDir
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("gofmt -l: %w", err)
	}
	if files := strings.TrimSpace(string(out)); files != "" {
		return fmt.Errorf("gofmt: these files are not formatted (run gofmt -w on them):\n%s", files)
	}
	return nil
}

// EnsureVenv creates the virtual environment with the pinned tools, once:
// a marker file records what was installed, so a second run is instant.
func EnsureVenv(ctx context.Context, o Options) (string, error) {
	venv := filepath.Join(o.CacheDir, "venv")
	marker := filepath.Join(venv, "slipway-requirements.txt")
	want := strings.Join(PythonRequirements, "\n") + "\n"
	if got, err := os.ReadFile(marker); err == nil && string(got) == want {
		return venv, nil
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		return "", errors.New("find python3: Python 3 is a prerequisite of the test suite: install it (Debian: apt-get install python3 python3-venv)")
	}
	fmt.Fprintf(o.Err, "test: creating Python venv %s with %s\n", venv, strings.Join(PythonRequirements, " "))
	if err := run(ctx, o, py, "-m", "venv", venv); err != nil {
		return "", fmt.Errorf("create venv %s (Debian: apt-get install python3-venv): %w", venv, err)
	}
	pip := append([]string{filepath.Join(venv, "bin", "pip"), "install", "--disable-pip-version-check", "-q"}, PythonRequirements...)
	if err := run(ctx, o, pip...); err != nil {
		return "", fmt.Errorf("install %s: %w", strings.Join(PythonRequirements, " "), err)
	}
	if err := os.WriteFile(marker+".tmp", []byte(want), 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", marker, err)
	}
	if err := os.Rename(marker+".tmp", marker); err != nil {
		return "", fmt.Errorf("write %s: %w", marker, err)
	}
	return venv, nil
}

func run(ctx context.Context, o Options, args ...string) error {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = o.ModuleDir
	cmd.Stdout, cmd.Stderr = o.Out, o.Err
	return cmd.Run()
}
