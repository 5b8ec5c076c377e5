package commands

import (
	"context"
	"os"

	"github.com/slipway/slipway/internal/build"

	"github.com/slipway/slipway/internal/testrun"
)

// TestAll runs the whole test suite the README names.
func TestAll(ctx context.Context) error {
	dir, err := build.ModuleDir()
	if err != nil {
		return err
	}
	return testrun.Run(ctx, testrun.Options{ModuleDir: dir, CacheDir: testrun.CacheDir(dir), Out: os.Stdout, Err: os.Stderr})
}
