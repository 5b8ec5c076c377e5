// Package commands is what the mage targets run: each target is one call
// into this package, which wires configuration, the Docker engine, the
// target's provider and the orchestration together.
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/docker/docker/client"

	"github.com/slipway/slipway/internal/awsprov"
	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/config"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/itest"
	"github.com/slipway/slipway/internal/local"
)

// Session is one command's wiring.
type Session struct {
	Cfg       config.Config
	ModuleDir string
	Docker    *client.Client
	Builder   *build.Builder
	Provider  *local.Provider
	AWS       *awsprov.Provider // set on the aws target (aws.go), which then is Flow.Provider
	Flow      *deploy.Flow
	Out, Err  io.Writer // results on Out, progress on Err
}

// Open loads the configuration and connects to the target.
func Open(ctx context.Context) (*Session, error) { return open(ctx, false) }

// open is Open; with alwaysLocal (the demo) the target is local whatever
// SLIPWAY_TARGET says.
func open(ctx context.Context, alwaysLocal bool) (*Session, error) {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	if alwaysLocal {
		cfg = localOnly(cfg, os.Stderr)
	}
	dir, err := build.ModuleDir()
	if err != nil {
		return nil, err
	}
	cli, err := local.Connect(ctx)
	if err != nil {
		return nil, err
	}
	s := &Session{Cfg: cfg, ModuleDir: dir, Docker: cli, Out: os.Stdout, Err: os.Stderr}
	s.Builder = &build.Builder{
		Engine: cli, ModuleDir: dir, AppImage: cfg.AppImage, RouterImage: cfg.RouterImage,
		Registry: cfg.Registry, Auth: image.Auth{Username: cfg.RegistryUser, Password: cfg.RegistryPass}, // server: the pushed reference's host
		Log: s.Err, Archiver: cli,
	}
	s.Provider = local.New(cli, local.Options{
		App: cfg.App, RouterPort: cfg.RouterPort, AdminPort: cfg.AdminPort, Domain: cfg.Domain,
		HealthTimeout: cfg.HealthTimeout, DrainTimeout: cfg.DrainTimeout, Log: s.Err,
	})
	s.Flow = &deploy.Flow{
		App: cfg.App, Provider: s.Provider, Builder: s.Builder, Log: s.Err,
		Tester: itest.Tester{ModuleDir: dir, Log: s.Err}, Routing: cfg,
	}
	if err := openDatabase(s); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	if cfg.Target == config.TargetAWS {
		if err := openAWS(ctx, s); err != nil {
			return nil, errors.Join(err, s.Close())
		}
	}
	return s, nil
}

// Close releases the Docker client.
func (s *Session) Close() error { return s.Docker.Close() }

// PrepareRouter builds the router image so the shared stack can start it.
func (s *Session) PrepareRouter(ctx context.Context) error {
	if s.AWS != nil {
		return nil // the shared ALB is the router
	}
	id, err := s.Builder.BuildRouter(ctx)
	if err != nil {
		return fmt.Errorf("build router image: %w", err)
	}
	s.Provider.SetRouterImage(id)
	return nil
}

// localOnly returns cfg on the local target, saying so when it was not.
func localOnly(cfg config.Config, log io.Writer) config.Config {
	if cfg.Target != config.TargetLocal {
		fmt.Fprintf(log, "demo: runs on the local target (Docker on this machine); SLIPWAY_TARGET=%s applies to the other targets\n", cfg.Target)
		cfg.Target, cfg.TargetDetected = config.TargetLocal, "the demo is always local"
	}
	return cfg
}
