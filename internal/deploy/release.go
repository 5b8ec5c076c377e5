package deploy

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/slipway/slipway/internal/naming"
)

// ReleaseResult is a release as deployed.
type ReleaseResult struct {
	Stack     string
	Previous  []string // stacks that had traffic before, kept for rollback
	URL       string
	Image     Image
	Tests     TestResult
	Unchanged bool // production already runs this image
}

// Release deploys a NEW production stack (blue/green), tests it through the
// stack header before it gets any traffic, and only then moves all
// production traffic to it. The previous stacks are kept for rollback. When
// anything fails, production routing is left exactly as it was.
func (f *Flow) Release(ctx context.Context, env map[string]string) (ReleaseResult, error) {
	img, err := f.Builder.Build(ctx, "release")
	if err != nil {
		return ReleaseResult{}, fmt.Errorf("build image: %w", err)
	}
	if err := f.Provider.EnsureShared(ctx); err != nil {
		return ReleaseResult{}, fmt.Errorf("ensure shared stack: %w", err)
	}
	routes, err := f.Provider.Routes(ctx)
	if err != nil {
		return ReleaseResult{}, err
	}
	res := ReleaseResult{Previous: routes.Live(), Image: img}
	if same, err := f.liveRuns(ctx, routes, img); err != nil {
		return res, err
	} else if same != "" {
		res.Stack, res.Unchanged = same, true
		f.logf("release: production already runs %s in %s: nothing to do", shortRef(img.Digest), same)
		return res, nil
	}
	if res.Stack, err = naming.Release(f.App, f.now(), img.Commit); err != nil {
		return res, err
	}
	spec := Spec{Stack: res.Stack, Role: RoleProduction, Image: img.Ref, Digest: img.Digest, Commit: img.Commit, Version: img.Version, Env: env}
	if _, err := f.Provider.Deploy(ctx, spec); err != nil {
		return res, fmt.Errorf("release %s (production traffic unchanged): %w", res.Stack, err)
	}
	base, host := f.Routing.Dial(f.productionHost())
	res.Tests, err = f.Tester.Test(ctx, TestTarget{BaseURL: base, Host: host, Commit: img.Commit, Stack: res.Stack, StackHeader: res.Stack})
	if err != nil {
		return res, fmt.Errorf("test %s (production traffic unchanged): %w", res.Stack, err)
	}
	f.logf("%s", res.Tests.Summary)
	if !res.Tests.OK {
		return res, fmt.Errorf("release %s (production traffic unchanged): %w (%s)", res.Stack, ErrTestsFailed, res.Tests.Summary)
	}
	if err := f.Provider.SetProduction(ctx, []Weight{{Stack: res.Stack, Weight: 100}}); err != nil {
		return res, fmt.Errorf("move production traffic to %s: %w", res.Stack, err)
	}
	res.URL = f.Routing.URL(f.productionHost())
	kept := strings.Join(res.Previous, ", ")
	f.logf("release: %s now takes all production traffic (kept for rollback: %s)", res.Stack, cmp.Or(kept, "none"))
	return res, nil
}

func (f *Flow) productionHost() string { return f.Routing.ProductionHost() }

// liveRuns returns the live stack already running img, if production is a
// single stack with all the traffic.
func (f *Flow) liveRuns(ctx context.Context, r Routes, img Image) (string, error) {
	live := r.Live()
	if len(live) != 1 {
		return "", nil
	}
	stacks, err := f.Provider.Stacks(ctx)
	if err != nil {
		return "", err
	}
	for _, s := range stacks {
		if s.Name == live[0] && s.Digest == img.Digest && s.Commit == img.Commit && s.Healthy {
			return s.Name, nil
		}
	}
	return "", nil
}

func shortRef(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}
