package testrun

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/build"
)

// The suite runs staticcheck, and the pinned staticcheck finds an
// assertion that cannot fail (the kind that was in naming_test.go): the
// step would fail the suite on it.
func TestSuiteRunsStaticcheckAndItCatchesAnAssertionThatCannotFail(t *testing.T) {
	var lint *Step
	for _, s := range Steps(nil) {
		if s.Name == "staticcheck" {
			lint = &s
		}
	}
	if lint == nil || !slices.Equal(lint.Args[:3], []string{"go", "tool", "staticcheck"}) {
		t.Fatalf("the suite has no staticcheck step: %+v", Steps(nil))
	}
	root, err := build.ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	// A package inside the module (go tool resolves the pinned version from
	// go.mod), in a directory the suite's ./... skips.
	dir, err := os.MkdirTemp(root, "_staticcheck")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	src := "package p\n\nimport \"testing\"\n\nfunc f(s string) string { return s }\n\nfunc TestF(t *testing.T) {\n\tif f(\"a\") != f(\"a\") {\n\t\tt.Error(\"not stable\")\n\t}\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "p_test.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "tool", "staticcheck", "./"+filepath.Base(dir))
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "SA4000") {
		t.Fatalf("staticcheck should fail on an assertion that cannot fail (SA4000): %v\n%s", err, out)
	}
}
