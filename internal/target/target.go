// Package target opens the one target a command runs on. Open is the only
// place that decides between the local target (package local) and the aws
// target (package awsprov): it applies the rules that override
// SLIPWAY_TARGET (the demo is always local; a fork's pull request in
// GitHub Actions is never deployed to AWS) before any AWS client exists,
// and returns one complete value that does not change afterwards.
package target

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/client"

	"github.com/slipway/slipway/internal/awsprov"
	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/config"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/github"
	"github.com/slipway/slipway/internal/local"
	"github.com/slipway/slipway/internal/manifest"
)

// Names of the targets, as SLIPWAY_TARGET spells them.
const (
	Local = config.TargetLocal
	AWS   = config.TargetAWS
)

// Options is what opening a target needs.
type Options struct {
	Config   config.Config
	Database config.Database
	// AlwaysLocal, when set, opens the local target whatever
	// SLIPWAY_TARGET says, and is the reason given (the demo).
	AlwaysLocal string
	// GitHub is the run's GitHub context, when the command is about a
	// pull request: a pull request that may not reach AWS (a fork's, in
	// Actions) gets the local target.
	GitHub *github.Context
	Docker *client.Client
	// Builder builds the app image on this machine; the aws target pushes
	// what it builds to the shared stack's repository.
	Builder *build.Builder
	// BuildRouter builds the local router's image when the local target
	// first needs it.
	BuildRouter func(context.Context) (string, error)
	Env         func(string) string
	Log         io.Writer
}

// Target is the target a command runs on: the seam the orchestration
// uses, and what the target-specific commands need. Exactly one of Local
// and AWS is set.
type Target struct {
	deploy.Target
	Choice                 // its name, and why when it is not the one configured
	Config  config.Config  // with Target set to the target opened
	Builder deploy.Builder // builds the app image where this target runs it from
	Routing deploy.Routing // the URLs of its stacks

	Local *local.Provider   // the local target's own commands: containers, down
	AWS   *awsprov.Provider // the aws target's own commands: shared:*, preview:database
}

// Choice is the target a run gets, and why when that is not the one
// SLIPWAY_TARGET asked for.
type Choice struct {
	Name string
	// Override says why the target is not the one configured ("" when it
	// is): the caller's AlwaysLocal, or NoAWS.
	Override string
	// NoAWS is why this pull request may not be deployed to AWS, whatever
	// target is configured ("" when it may): the pull request says it.
	NoAWS string
}

// Choose applies the rules that override SLIPWAY_TARGET. It calls nothing.
func Choose(cfg config.Config, alwaysLocal string, gh *github.Context) Choice {
	c := Choice{Name: cfg.Target}
	if gh != nil {
		if ok, why := gh.AWSDeployAllowed(); !ok {
			c.NoAWS = why
		}
	}
	switch {
	case cfg.Target == Local:
	case alwaysLocal != "":
		c.Name, c.Override = Local, alwaysLocal
	case c.NoAWS != "":
		c.Name, c.Override = Local, "no AWS deploy: "+c.NoAWS
	}
	return c
}

// Open opens the target the configuration and the rules choose. On the
// local target no AWS client is made; on the aws target the SDK loads its
// configuration but calls nothing until the target is used.
func Open(ctx context.Context, o Options) (Target, error) {
	c := Choose(o.Config, o.AlwaysLocal, o.GitHub)
	cfg := o.Config
	if c.Name == AWS {
		return openAWS(ctx, cfg, c, o)
	}
	if cfg.Target != Local {
		cfg.Target, cfg.TargetDetected = Local, c.Override
		cfg.Manifest = onLocal(cfg.Manifest)
		fmt.Fprintf(o.Log, "target: local, not %s: %s\n", o.Config.Target, c.Override)
	}
	return openLocal(cfg, c, o), nil
}

// openLocal is the local target: the Docker engine and the app's router.
func openLocal(cfg config.Config, c Choice, o Options) Target {
	db := ""
	if o.Database.On {
		db = o.Database.Image
	}
	p := local.New(o.Docker, local.Options{
		App: cfg.App, RouterPort: cfg.RouterPort, AdminPort: cfg.AdminPort, Domain: cfg.Domain,
		HealthTimeout: cfg.HealthTimeout, DrainTimeout: cfg.DrainTimeout, Log: o.Log,
		BuildRouter: o.BuildRouter, DatabaseImage: db, StackPorts: cfg.StackPorts, Env: o.Env,
	})
	return Target{Target: p, Choice: c, Config: cfg, Builder: o.Builder, Routing: cfg, Local: p}
}

// onLocal is the app's manifest for the local target when the
// configuration was made for aws: the health check keys the file leaves
// out take the local router's defaults, not the target group's.
func onLocal(m *manifest.Manifest) *manifest.Manifest {
	if m == nil {
		return nil
	}
	l := *m
	l.Health = m.HealthOr(manifest.LocalHealth)
	return &l
}
