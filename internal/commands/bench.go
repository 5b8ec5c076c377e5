package commands

import (
	"context"
	"os"

	"github.com/slipway/slipway/internal/build"

	"github.com/slipway/slipway/internal/previewbench"
	"github.com/slipway/slipway/internal/routerbench"
)

// BenchRouter compares the router with a direct call and with HAProxy on
// loopback (needs wrk and haproxy: apt-get install wrk haproxy).
func BenchRouter(ctx context.Context) error {
	dir, err := build.ModuleDir()
	if err != nil {
		return err
	}
	return routerbench.Run(ctx, routerbench.Options{ModuleDir: dir}, os.Stdout)
}

// BenchPreview measures how soon a preview URL serves a new commit, with
// the images already built (median of 5 deploys).
func BenchPreview(ctx context.Context) error {
	dir, err := build.ModuleDir()
	if err != nil {
		return err
	}
	return previewbench.Run(ctx, previewbench.Options{ModuleDir: dir, Log: os.Stderr}, os.Stdout)
}
