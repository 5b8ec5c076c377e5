package image

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// CompileStatic builds the Go main package pkg (a path such as "./cmd/app",
// resolved in moduleDir) into a static linux binary at out, for the
// architecture this program runs on. version and commit are linked into
// main.version and main.commit, and main.dirty is "true" when dirty (built
// from a working tree with uncommitted changes). The binary carries no VCS
// stamp. The go command runs with an argument list, never through a shell;
// its output is part of the error when it fails.
func CompileStatic(ctx context.Context, moduleDir, pkg, out, version, commit string, dirty bool) error {
	for name, v := range map[string]string{"version": version, "commit": commit} {
		if strings.ContainsAny(v, " \t\r\n'\"\\") {
			return fmt.Errorf("compile %s: %s %q contains a space, quote or backslash", pkg, name, v)
		}
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("compile %s: resolve output path: %w", pkg, err)
	}
	ldflags := fmt.Sprintf("-s -w -X main.version=%s -X main.commit=%s", version, commit)
	if dirty {
		ldflags += " -X main.dirty=true"
	}
	// No VCS stamp: version and commit are linked in, and the sources may
	// be a copy of a tree (inside a git directory even) whose surroundings
	// are not what was built.
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", abs, pkg)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("compile %s: %w\n%s", pkg, err, strings.TrimSpace(output.String()))
	}
	return nil
}
