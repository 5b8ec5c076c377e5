package commands

import (
	"context"
	"errors"
	"fmt"
	"github.com/slipway/slipway/internal/build"
	"os"
	"time"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/itest"
	"github.com/slipway/slipway/internal/local"
)

// demoPreviews are the two pull requests the demo shows side by side.
var demoPreviews = []deploy.PreviewRequest{
	{PR: 1, Env: map[string]string{"APP_MESSAGE": "PR 1: a friendlier greeting", "APP_COLOR": "#1565c0"}},
	{PR: 2, Env: map[string]string{"APP_MESSAGE": "PR 2: trying an orange theme", "APP_COLOR": "#ef6c00"}},
}

// Demo builds the images, brings up the shared stack, releases a production
// stack, deploys previews of two pull requests, and prints every URL and the
// status table. Everything is left running; `local:down` removes it. The
// demo is always local, whatever SLIPWAY_TARGET says.
func Demo(ctx context.Context) error {
	return withSession(ctx, true, func(s *Session) error {
		start := time.Now()
		if err := s.PrepareRouter(ctx); err != nil {
			return err
		}
		rel, err := s.Flow.Release(ctx, map[string]string{"APP_MESSAGE": "Production: the released main branch", "APP_COLOR": "#2e7d32"})
		if err != nil {
			return err
		}
		fmt.Fprintf(s.Out, "production  %s  (stack %s)\n", s.Flow.Routing.URL(s.Flow.Routing.ProductionHost()), rel.Stack)
		for _, req := range demoPreviews {
			res, err := s.Flow.DeployPreview(ctx, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "pr-%d        %s  (stack %s)\n", req.PR, res.URL, res.Stack)
		}
		rows, err := s.Flow.Status(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(s.Out)
		if err := deploy.PrintStatus(s.Out, rows); err != nil {
			return err
		}
		fmt.Fprintf(s.Out, "\nOpen the URLs in a browser (*.localhost resolves to 127.0.0.1), or:\n  curl -H 'Host: %s' http://127.0.0.1:%d/\nRemove everything with: go run mage.go local:down\n",
			s.Cfg.PreviewHost("pr-1"), s.Cfg.RouterPort)
		fmt.Fprintf(s.Err, "demo: ready in %s\n", time.Since(start).Round(100*time.Millisecond))
		return nil
	})
}

// LocalDown removes every container, network and volume that carries this
// app's label, then every tag of the app's image repository, and nothing
// else.
func LocalDown(ctx context.Context) error {
	return with(ctx, func(s *Session) error {
		if err := local.Down(ctx, s.Docker, s.Cfg.App, s.Err); err != nil {
			return err
		}
		return local.RemoveImages(ctx, s.Docker, s.Cfg.AppImage, s.Err)
	})
}

// TestIntegration runs the integration tests against url and prints a
// summary; host, commit and stack are optional expectations.
func TestIntegration(ctx context.Context, url string, host, commit, stack *string) error {
	dir, err := build.ModuleDir()
	if err != nil {
		return err
	}
	t := itest.Target{BaseURL: url, Host: deref(host), ExpectCommit: deref(commit), ExpectStack: deref(stack), StackHeader: deref(stack)}
	res, err := itest.Run(ctx, dir, t, os.Stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stdout, res.Summary())
	if !res.OK() {
		return errors.New("integration tests failed")
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
