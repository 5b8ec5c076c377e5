package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/config"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/local"
	"github.com/slipway/slipway/internal/naming"
)

// PrintConfig prints the effective settings with secrets redacted. Invalid
// settings are printed too, followed by every problem.
func PrintConfig() error {
	cfg, err := config.Load(os.Getenv)
	if perr := config.Print(os.Stdout, cfg); perr != nil {
		return perr
	}
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	return nil
}

// Build builds the app and router images and prints their references.
// With SLIPWAY_IMAGE_ARCHIVE set it also saves the app image there, for a
// trusted job to deploy (see preview-fork.yml).
func Build(ctx context.Context) error {
	return with(ctx, func(s *Session) error {
		img, err := s.Builder.Build(ctx, "build")
		if err != nil {
			return err
		}
		rid, err := s.Builder.BuildRouter(ctx)
		if err != nil {
			return err
		}
		if path := os.Getenv("SLIPWAY_IMAGE_ARCHIVE"); path != "" {
			if err := build.Save(ctx, s.Docker, s.Cfg.AppImage, img, path); err != nil {
				return err
			}
			fmt.Fprintf(s.Err, "build: app image of commit %s saved to %s\n", naming.ShortCommit(img.Commit), path)
		}
		fmt.Fprintf(s.Out, "app    %s (commit %s, version %s)\nrouter %s\n", img.Ref, img.Commit, img.Version, rid)
		return nil
	})
}

// Push builds the app image and pushes it to SLIPWAY_REGISTRY (on the aws
// target without it, to the shared stack's ECR repository, as deploys
// do), printing the digest reference that deploys use.
func Push(ctx context.Context) error {
	return with(ctx, func(s *Session) error {
		var b deploy.Builder = s.Builder
		if s.Cfg.Registry == "" {
			if s.Target.AWS == nil {
				return errors.New("push: set SLIPWAY_REGISTRY (e.g. 127.0.0.1:5000/team) and, if it needs them, SLIPWAY_REGISTRY_USER and SLIPWAY_REGISTRY_PASSWORD (on the aws target push goes to the shared stack's ECR repository without it)")
			}
			if _, err := s.Target.AWS.Shared(ctx); err != nil {
				return fmt.Errorf("push: the aws target pushes to the shared stack's ECR repository: %w", err)
			}
			b = s.Target.Builder
		}
		img, err := b.Build(ctx, "push")
		if err != nil {
			return err
		}
		fmt.Fprintln(s.Out, img.Ref)
		return nil
	})
}

// Status prints every stack of the app with its role, health and traffic,
// then (local target) every container of the app with its state, so a
// container an interrupted deploy left (Exited) is never hidden. When the
// router is down it still prints them, says so and what to run, and fails.
func Status(ctx context.Context) error {
	return with(ctx, func(s *Session) error {
		rows, err := s.Flow.Status(ctx)
		if err != nil && rows == nil {
			return fmt.Errorf("status: read the stacks of %s on the %s target: %w", s.Cfg.App, s.Target.Name, err)
		}
		if perr := deploy.PrintStatus(s.Out, rows); perr != nil {
			return perr
		}
		if len(rows) == 0 {
			fmt.Fprintf(s.Err, "status: %s\n", s.Flow.NoStacksHint())
		}
		if hint := s.Flow.RouterHint(err); hint != "" {
			fmt.Fprintf(s.Err, "status: %s\n", hint)
		}
		if s.Target.Local != nil {
			cs, cerr := s.Target.Local.Containers(ctx)
			if cerr == nil {
				cerr = printContainers(s.Out, cs)
			}
			err = errors.Join(err, cerr)
		}
		return err
	})
}

// printContainers writes the containers table after a blank line; nothing
// when there are none.
func printContainers(w io.Writer, cs []local.Container) error {
	if len(cs) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nCONTAINER\tSTACK\tSTATE\tSTATUS")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, c.Stack, c.State, c.Status)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print containers: %w", err)
	}
	return nil
}

// appEnv passes the named variables from this process to the app.
func appEnv(keys ...string) map[string]string {
	env := map[string]string{}
	for _, k := range keys {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	return env
}
