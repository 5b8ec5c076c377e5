package scaffold

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// SlipwayModule is the module a team's go.mod requires.
const SlipwayModule = "github.com/slipway/slipway"

// replacedVersion is the version go.mod requires when a replace directive
// names a local checkout: the placeholder `go mod edit` and `go get` use.
const replacedVersion = "v0.0.0-00010101000000-000000000000"

// goPackages are the packages of Slipway that the scaffolded files import:
// `go get` adds the modules they need and their checksums.
var goPackages = []string{SlipwayModule + "/targets", SlipwayModule + "/magerun"}

// goMod works out dir's go.mod requiring Slipway: a new one when there is
// none (the module named after the git remote, else the directory), with a
// replace directive when o.Replace names a local checkout. It adds only
// what is missing: a require or replace of Slipway already there stays as
// it is. It returns the new content and what changed, or nil when nothing
// needs to; existed says whether there was a go.mod.
func goMod(dir string, o Options) (data []byte, existed bool, note string, err error) {
	path := filepath.Join(dir, "go.mod")
	old, err := os.ReadFile(path)
	var f *modfile.File
	var did []string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		f = new(modfile.File)
		mod, from, err := modulePath(dir, o.Module)
		if err != nil {
			return nil, false, "", err
		}
		if err := errors.Join(f.AddModuleStmt(mod), f.AddGoStmt(goVersion())); err != nil {
			return nil, false, "", fmt.Errorf("go.mod: %w", err)
		}
		did = append(did, "module "+mod+" (from "+from+")")
	case err != nil:
		return nil, false, "", fmt.Errorf("read go.mod: %w", err)
	default:
		if f, err = modfile.Parse(path, old, nil); err != nil {
			return nil, true, "", fmt.Errorf("read go.mod: %w", err)
		}
		if f.Module != nil && f.Module.Mod.Path == SlipwayModule {
			return nil, true, "", errors.New("go.mod is Slipway's own module: run init in your app's repository")
		}
	}
	existed = old != nil
	if !requires(f) {
		v, err := requiredVersion(o)
		if err != nil {
			return nil, existed, "", err
		}
		f.AddNewRequire(SlipwayModule, v, false)
		did = append(did, "require "+SlipwayModule+" "+v)
	}
	if o.Replace != "" && !replaces(f) {
		abs, err := filepath.Abs(o.Replace)
		if err != nil {
			return nil, existed, "", fmt.Errorf("-replace: %w", err)
		}
		if err := f.AddReplace(SlipwayModule, "", abs, ""); err != nil {
			return nil, existed, "", fmt.Errorf("go.mod: %w", err)
		}
		did = append(did, "replace => "+abs)
	}
	if len(did) == 0 {
		return nil, existed, "", nil
	}
	f.Cleanup()
	if data, err = f.Format(); err != nil {
		return nil, existed, "", fmt.Errorf("format go.mod: %w", err)
	}
	return data, existed, strings.Join(did, "; "), nil
}

func requires(f *modfile.File) bool {
	for _, r := range f.Require {
		if r.Mod.Path == SlipwayModule {
			return true
		}
	}
	return false
}

func replaces(f *modfile.File) bool {
	for _, r := range f.Replace {
		if r.Old.Path == SlipwayModule {
			return true
		}
	}
	return false
}

// requiredVersion is the Slipway version go.mod requires: o.Version, or
// with a local checkout and no version, the placeholder.
func requiredVersion(o Options) (string, error) {
	switch {
	case o.Version != "":
		if err := module.Check(SlipwayModule, o.Version); err != nil {
			return "", fmt.Errorf("-version=%s: %w: want a released version such as v1.2.3", o.Version, err)
		}
		return o.Version, nil
	case o.Replace != "":
		return replacedVersion, nil
	default:
		return "", errors.New("no Slipway version to require: this slipway was not built from a released version; run it as `go run github.com/slipway/slipway/cmd/slipway@VERSION init`, or pass -version=VERSION, or -replace=DIR for a local checkout of Slipway")
	}
}

var remoteRe = regexp.MustCompile(`^(?:[a-z+]+://)?(?:[^@/]+@)?([A-Za-z0-9.-]+\.[A-Za-z]+)(?::\d+)?[:/](.+?)(?:\.git)?/?$`)

// modulePath names a new go.mod's module: the -module flag, else the git
// remote origin's host and path (github.com/owner/repo), else the
// directory's name.
func modulePath(dir, flag string) (path, from string, err error) {
	if flag != "" {
		if err := module.CheckImportPath(flag); err != nil {
			return "", "", fmt.Errorf("-module=%s: %w", flag, err)
		}
		return flag, "-module", nil
	}
	out, err := exec.Command("git", "-C", dir, "remote", "get-url", "origin").Output()
	if m := remoteRe.FindStringSubmatch(strings.TrimSpace(string(out))); err == nil && m != nil {
		if p := m[1] + "/" + m[2]; module.CheckPath(p) == nil {
			return p, "the git remote origin", nil
		}
	}
	name := filepath.Base(dir)
	if err := module.CheckImportPath(name); err != nil {
		return "", "", fmt.Errorf("name go.mod's module: %q (the directory's name) is not a module path: %w: pass -module=PATH", name, err)
	}
	return name, "the directory's name", nil
}

var goVersionRe = regexp.MustCompile(`^go(1\.\d+(?:\.\d+)?)`)

// goVersion is the go line of a new go.mod: the running toolchain's
// version (`go get` raises it when Slipway needs a newer one).
func goVersion() string {
	if m := goVersionRe.FindStringSubmatch(runtime.Version()); m != nil {
		return m[1]
	}
	return "1.26"
}

// goGet adds the modules Slipway's packages need to go.mod and their
// checksums to go.sum, at the version go.mod requires. It needs the module
// proxy or the module cache.
func goGet(ctx context.Context, dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return fmt.Errorf("read go.mod: %w", err)
	}
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return fmt.Errorf("read go.mod: %w", err)
	}
	version := ""
	for _, r := range f.Require {
		if r.Mod.Path == SlipwayModule {
			version = r.Mod.Version
		}
	}
	args := []string{"get"}
	for _, p := range goPackages {
		args = append(args, p+"@"+version)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w\n%s\nrun it in %s once the module proxy is reachable", strings.Join(args, " "), err, strings.TrimSpace(out.String()), dir)
	}
	return nil
}
