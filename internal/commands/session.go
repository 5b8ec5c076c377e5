// Package commands is what the mage targets run: each target is one call
// into this package, which wires configuration, the Docker engine, the
// target's provider and the orchestration together.
package commands

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/docker/docker/client"

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
	Flow      *deploy.Flow
	Out, Err  io.Writer // results on Out, progress on Err
}

// Open loads the configuration and connects to the target.
func Open(ctx context.Context) (*Session, error) {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	if cfg.Target != config.TargetLocal {
		return nil, fmt.Errorf("target %s (%s): the aws target's stack engine is not in this build yet; set SLIPWAY_TARGET=local to use the local Docker target", cfg.Target, cfg.TargetDetected)
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
	return s, nil
}

// Close releases the Docker client.
func (s *Session) Close() error { return s.Docker.Close() }

// PrepareRouter builds the router image so the shared stack can start it.
func (s *Session) PrepareRouter(ctx context.Context) error {
	id, err := s.Builder.BuildRouter(ctx)
	if err != nil {
		return fmt.Errorf("build router image: %w", err)
	}
	s.Provider.SetRouterImage(id)
	return nil
}
