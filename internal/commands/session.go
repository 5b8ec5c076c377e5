// Package commands is what the mage targets run: each target is one call
// into this package, which reads the configuration, opens the target
// (package target, the one place that chooses it), builds the
// orchestration once and runs it.
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/docker/docker/client"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/config"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/github"
	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/itest"
	"github.com/slipway/slipway/internal/local"
	"github.com/slipway/slipway/internal/target"
)

// Session is one command's wiring. Nothing in it changes after open.
type Session struct {
	Cfg       config.Config // as opened: Cfg.Target is the target in use
	ModuleDir string
	Docker    *client.Client
	Builder   *build.Builder // builds on this machine (build, push)
	Target    target.Target
	Flow      *deploy.Flow
	Out, Err  io.Writer // results on Out, progress on Err
}

// opening is what a command knows before the target is opened.
type opening struct {
	// alwaysLocal: the local target whatever SLIPWAY_TARGET says, and why.
	alwaysLocal string
	// gh: the pull request the command is about, for the fork rule.
	gh *github.Context
	// reporter: who is told what happens, once the target is known.
	reporter func(target.Target) deploy.Reporter
	// lifecycle: the lock and release settings (release, rollback,
	// traffic, cleanup).
	lifecycle *config.Lifecycle
	// loadArchive: deploy the app image saved in this archive (a fork's
	// build, preview-fork.yml) instead of building one.
	loadArchive string
}

// with opens a session on the configured target, runs fn and closes it.
func with(ctx context.Context, fn func(*Session) error) error {
	return withOpening(ctx, opening{}, fn)
}

// withOpening is with for a command that knows more before it opens.
func withOpening(ctx context.Context, o opening, fn func(*Session) error) error {
	s, err := open(ctx, o)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// open loads the configuration, opens the target and builds the flow.
func open(ctx context.Context, o opening) (*Session, error) {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	db, err := config.LoadDatabase(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	dir, err := build.ModuleDir()
	if err != nil {
		return nil, err
	}
	cli, err := local.Connect(ctx)
	if err != nil {
		return nil, err
	}
	b := &build.Builder{
		Engine: cli, ModuleDir: dir, AppImage: cfg.AppImage, RouterImage: cfg.RouterImage,
		Registry: cfg.Registry, Auth: image.Auth{Username: cfg.RegistryUser, Password: cfg.RegistryPass}, // server: the pushed reference's host
		Log: os.Stderr, Archiver: cli, LoadArchive: o.loadArchive, Manifest: cfg.Manifest,
	}
	t, err := target.Open(ctx, target.Options{
		Config: cfg, Database: db, AlwaysLocal: o.alwaysLocal, GitHub: o.gh,
		Docker: cli, Builder: b, BuildRouter: b.BuildRouter, Env: os.Getenv, Log: os.Stderr,
	})
	if err != nil {
		return nil, errors.Join(err, cli.Close())
	}
	s := &Session{Cfg: t.Config, ModuleDir: dir, Docker: cli, Builder: b, Target: t, Out: os.Stdout, Err: os.Stderr}
	s.Flow = newFlow(s, db, o)
	return s, nil
}

// newFlow is the orchestration of one command, complete.
func newFlow(s *Session, db config.Database, o opening) *deploy.Flow {
	t := s.Target
	f := &deploy.Flow{
		App: s.Cfg.App, Target: t.Target, Builder: t.Builder, Routing: t.Routing, Log: s.Err,
		Tester: itest.Tester{Suite: itest.SuiteFor(s.Cfg.Manifest, s.ModuleDir), Log: s.Err}, TargetName: t.Name, Database: db.On,
		Manifest: s.Cfg.Manifest,
	}
	if o.reporter != nil {
		f.Reporter = o.reporter(t)
	}
	if lc := o.lifecycle; lc != nil {
		f.Owner, f.LockWait, f.LockTTL = owner(), lc.LockWait, lc.LockTTL
		if lc.Strategy == config.StrategyCanary {
			f.Strategy = deploy.Strategy{Steps: lc.CanarySteps, Bake: lc.CanaryBake, MaxErrorRate: lc.MaxErrorRate,
				MaxLatencyRatio: lc.MaxLatencyRatio, MinRequests: uint64(lc.MinRequests),
				MaxBake: lc.CanaryMaxBake, AllowUnjudged: lc.AllowUnjudged, Poll: canaryPoll(t.Name), Report: s.Out}
		}
	}
	return f
}

// Close releases the Docker client.
func (s *Session) Close() error { return s.Docker.Close() }

// demoIsLocal is why the demo runs on the local target.
const demoIsLocal = "the demo always runs on the local target (Docker on this machine); SLIPWAY_TARGET applies to the other commands"
