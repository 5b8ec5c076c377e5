package build_test

import (
	"context"
	"io"
	"maps"
	"path/filepath"
	"testing"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/testenv"
)

// The sample app's own binary says what its labels must be: the values
// the Dockerfile's defaults hold today (another test keeps those equal).
func TestSchemaArgsComeFromTheCompiledApp(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED (not counted as passed): compiles the sample app")
	}
	bin := filepath.Join(t.TempDir(), "app")
	if err := image.CompileStatic(context.Background(), testenv.ModuleDir(t), "./sample-app", bin, "test", "test", false); err != nil {
		t.Fatal(err)
	}
	got, err := build.SchemaArgs(context.Background(), bin, io.Discard)
	want := map[string]string{"SCHEMA_HEAD": "3", "SCHEMA_MIN": "2", "SCHEMA_CONTRACTS": "3:00003_drop_visits.sql"}
	if err != nil || !maps.Equal(got, want) {
		t.Fatalf("schemaArgs = %v, %v; want %v", got, err, want)
	}
}
