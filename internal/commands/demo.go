package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/slipway/slipway/internal/build"

	"github.com/slipway/slipway/internal/config"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/itest"
	"github.com/slipway/slipway/internal/local"
)

// demoPreviews are the two pull requests the demo shows side by side.
var demoPreviews = []deploy.PreviewRequest{
	{PR: 1, Env: map[string]string{"APP_MESSAGE": "PR 1: a friendlier greeting", "APP_COLOR": "#1565c0"}},
	{PR: 2, Env: map[string]string{"APP_MESSAGE": "PR 2: trying an orange theme", "APP_COLOR": "#ef6c00"}},
}

// The two production releases of the demo: v2 is released over v1, then
// rolled back.
var (
	demoV1 = map[string]string{"APP_MESSAGE": "Production v1: the released main branch", "APP_COLOR": "#2e7d32"}
	demoV2 = map[string]string{"APP_MESSAGE": "Production v2: a release the demo rolls back", "APP_COLOR": "#c62828"}
)

// Demo builds the images, brings up the shared stack, releases production
// v1, releases v2 over it and rolls back to v1, deploys previews of two
// pull requests, and prints every URL and the status table. Everything is
// left running; `local:down` removes it. Run again, it reuses the stacks of
// the last run (same commit, same settings) instead of making new ones. The
// demo is always local, whatever SLIPWAY_TARGET says.
func Demo(ctx context.Context) error {
	return withOpening(ctx, opening{alwaysLocal: demoIsLocal}, func(s *Session) error {
		start := time.Now()
		if err := demoRollback(ctx, s); err != nil {
			return err
		}
		own := ""
		for _, req := range demoPreviews {
			res, err := s.Flow.DeployPreview(ctx, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "pr-%d           %s  (stack %s%s)\n", req.PR, res.URL, res.Stack, anyClient(res.StackURL))
			if own == "" {
				own = res.StackURL
			}
		}
		rows, err := s.Flow.Status(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(s.Out)
		if err := deploy.PrintStatus(s.Out, rows); err != nil {
			return err
		}
		fmt.Fprintf(s.Out, "\nOpen the URLs in a browser (*.localhost resolves to 127.0.0.1), or:\n  curl -H 'Host: %s' http://127.0.0.1:%d/\n",
			s.Cfg.PreviewHost("pr-1"), s.Cfg.RouterPort)
		if own != "" {
			fmt.Fprintf(s.Out, "Every stack also has its own URL (STACK URL) that any client reaches with no Host header:\n  curl %s/\n", own)
		}
		fmt.Fprintln(s.Out, "Remove everything with: go run mage.go local:down")
		fmt.Fprintf(s.Err, "demo: ready in %s\n", time.Since(start).Round(100*time.Millisecond))
		return nil
	})
}

// demoRollback shows a release and a rollback: v1 takes production, v2
// takes it over, and rollback moves all traffic back to v1 in one step,
// with v2 kept (`traffic:set` brings it back).
func demoRollback(ctx context.Context, s *Session) error {
	rev, err := build.Detect(ctx, s.ModuleDir)
	if err != nil {
		return err
	}
	url := s.Flow.Routing.URL(s.Flow.Routing.ProductionHost())
	v1, err := demoRelease(ctx, s, rev, demoV1)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "production v1  %s  (stack %s)\n", url, v1)
	v2, err := demoRelease(ctx, s, rev, demoV2)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "released v2    %s  (stack %s took all traffic, %s kept for rollback)\n", url, v2, v1)
	began := time.Now()
	rb, err := s.Flow.Rollback(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "rolled back    %s  (stack %s again in %s; %s kept: `go run mage.go traffic:set %s=100` brings v2 back)\n",
		url, rb.Stack, time.Since(began).Round(time.Millisecond), v2, v2)
	return nil
}

// demoRelease makes a production stack running env take all traffic and
// returns its name. A stack kept from an earlier demo run of the same clean
// commit with the same environment takes the traffic back (so re-running
// the demo adds no stacks); otherwise it is a release of a new stack (which
// does nothing when the live stack already runs it).
func demoRelease(ctx context.Context, s *Session, rev build.Revision, env map[string]string) (string, error) {
	if !rev.Dirty {
		kept, err := keptStack(ctx, s.Flow, rev.Commit, env)
		if err != nil {
			return "", err
		}
		if kept != "" {
			fmt.Fprintf(s.Err, "demo: %s, kept from an earlier run, runs this commit and environment: switching traffic to it\n", kept)
			return kept, s.Flow.SetTraffic(ctx, []deploy.Weight{{Stack: kept, Weight: 100}})
		}
	}
	res, err := s.Flow.Release(ctx, env)
	return res.Stack, err
}

// keptStack is a production stack that has no traffic but could take it,
// built from the clean commit with env.
func keptStack(ctx context.Context, f *deploy.Flow, commit string, env map[string]string) (string, error) {
	stacks, err := f.Target.Stacks(ctx)
	if err != nil {
		return "", err
	}
	routes, err := f.Target.Routes(ctx)
	if err != nil {
		return "", err
	}
	live := map[string]bool{}
	for _, l := range routes.Live() {
		live[l] = true
	}
	for _, st := range stacks {
		if st.Role == deploy.RoleProduction && !live[st.Name] && st.State != deploy.StateFailed && !st.Busy &&
			st.Commit == commit && !st.Dirty && st.EnvHash == deploy.EnvHash(env) && (st.Healthy || st.Scaled) {
			return st.Name, nil
		}
	}
	return "", nil
}

// LocalDown removes every container, network and volume that carries this
// app's label (the database's data only with deleteData), then every tag
// of the app's image repository, and nothing else: it says what stays.
func LocalDown(ctx context.Context, deleteData *bool) error {
	return with(ctx, func(s *Session) error {
		keep := deleteData == nil || !*deleteData
		if err := local.Down(ctx, s.Docker, s.Cfg.App, keep, s.Err); err != nil {
			return err
		}
		if err := local.RemoveImages(ctx, s.Docker, s.Cfg.AppImage, s.Err); err != nil {
			return err
		}
		fmt.Fprintf(s.Err, "down: the router image %s stays: every app on this machine runs it (`docker image rm` removes it)\n", s.Cfg.RouterImage)
		return nil
	})
}

// TestIntegration runs the app's integration tests (slipway.yaml's
// test.command, else the sample app's) against url and prints a summary;
// host, commit and stack are optional expectations.
func TestIntegration(ctx context.Context, url string, host, commit, stack *string) error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	dir := "" // the app's tests need no Slipway checkout; the sample app's are in it
	if !cfg.Manifest.Found() {
		if dir, err = build.ModuleDir(); err != nil {
			return err
		}
	}
	// `status` shows a dirty build's commit as abc1234+dirty: its commit is abc1234.
	expect := strings.TrimSuffix(deref(commit), "+dirty")
	t := itest.Target{BaseURL: url, Host: deref(host), ExpectCommit: expect, ExpectStack: deref(stack), StackHeader: deref(stack)}
	res, err := itest.SuiteFor(cfg.Manifest, dir).Run(ctx, t, os.Stderr)
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

// anyClient names a stack's own URL in a line about it; "" when it has
// none.
func anyClient(stackURL string) string {
	if stackURL == "" {
		return ""
	}
	return ", any client: " + stackURL
}
