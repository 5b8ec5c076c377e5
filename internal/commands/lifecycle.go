package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/slipway/slipway/internal/awsprov"
	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/config"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/gitrepo"
)

// lifecycle opens a session whose flow has the lifecycle settings.
func lifecycle(ctx context.Context, fn func(*Session, config.Lifecycle) error, adjust ...func(*config.Lifecycle)) error {
	lc, err := config.LoadLifecycle(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	for _, o := range adjust {
		o(&lc)
	}
	return withOpening(ctx, opening{lifecycle: &lc}, func(s *Session) error { return fn(s, lc) })
}

// canaryPoll is how often a canary step reads the counters: the router's
// are live, the ALB publishes its CloudWatch metrics once a minute (a
// sooner read finds nothing new and is warned about).
func canaryPoll(target string) time.Duration {
	if target == config.TargetAWS {
		return awsprov.MetricPeriod
	}
	return 5 * time.Second
}

// owner names who holds the lock: the Actions run, else user@host.
func owner() string {
	if os.Getenv("GITHUB_ACTIONS") == "true" {
		return fmt.Sprintf("GitHub Actions run %s/%s/actions/runs/%s", os.Getenv("GITHUB_SERVER_URL"), os.Getenv("GITHUB_REPOSITORY"), os.Getenv("GITHUB_RUN_ID"))
	}
	name := "someone"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil {
		host = "this machine"
	}
	return fmt.Sprintf("%s@%s (pid %d)", name, host, os.Getpid())
}

// ReleaseGuarded releases the checkout after the release guards: a dirty
// tree or a branch other than the default one is refused unless allowed by
// the flag or the setting.
func ReleaseGuarded(ctx context.Context, allowDirty, allowBranch *bool) error {
	return ReleaseFlags(ctx, allowDirty, allowBranch, nil, nil)
}

// ReleaseFlags is ReleaseGuarded with release's flags: allowUnjudged (or
// SLIPWAY_CANARY_ALLOW_UNJUDGED) lets a canary step that is still too few
// requests to judge at SLIPWAY_CANARY_MAX_BAKE go on instead of failing;
// diff (aws) builds and pushes the image, prints what the release's stack
// would be (cfnstack.Plan) and stops: no stack, lock or traffic changes.
func ReleaseFlags(ctx context.Context, allowDirty, allowBranch, allowUnjudged, diff *bool) error {
	return lifecycle(ctx, func(s *Session, lc config.Lifecycle) error {
		req, err := releaseRequest(ctx, s, lc)
		if err != nil {
			return err
		}
		req.AllowDirty = req.AllowDirty || (allowDirty != nil && *allowDirty)
		req.AllowBranch = req.AllowBranch || (allowBranch != nil && *allowBranch)
		if err := req.Check(); err != nil { // before anything is built
			return err
		}
		if diff != nil && *diff {
			return planDeploy(ctx, s, "release", func(ctx context.Context) (deploy.Spec, error) { return s.Flow.ReleaseSpec(ctx, req) })
		}
		res, err := s.Flow.ReleaseWith(ctx, req)
		summarize(ctx, s, "Release "+res.Stack)
		showTiming(s, res.Timing, true)
		if err != nil {
			annotate(err)
			return err
		}
		fmt.Fprintf(s.Out, "%s\t%s\n", res.Stack, s.Flow.Routing.URL(s.Flow.Routing.ProductionHost()))
		return nil
	}, func(lc *config.Lifecycle) {
		lc.AllowUnjudged = lc.AllowUnjudged || (allowUnjudged != nil && *allowUnjudged)
	})
}

func releaseRequest(ctx context.Context, s *Session, lc config.Lifecycle) (deploy.ReleaseRequest, error) {
	req := deploy.ReleaseRequest{Env: appEnv("APP_MESSAGE", "APP_COLOR", "APP_FAIL_PERCENT", "APP_DELAY"), AllowDirty: lc.AllowDirty, AllowBranch: lc.AllowBranch}
	dirty, err := build.Dirty(ctx, s.ModuleDir) // the test the build marks its image by
	if err != nil {
		return req, fmt.Errorf("release: %w", err)
	}
	req.Dirty = dirty
	req.Branch = currentBranch(ctx, s.ModuleDir)
	req.DefaultBranch = defaultBranch(ctx, s.ModuleDir, lc)
	return req, nil
}

// currentBranch is the checked-out branch ("" when detached).
func currentBranch(ctx context.Context, dir string) string {
	if os.Getenv("GITHUB_ACTIONS") == "true" && os.Getenv("GITHUB_REF_TYPE") == "branch" {
		return os.Getenv("GITHUB_REF_NAME")
	}
	b, _ := gitrepo.Branch(ctx, dir) // "" when detached or unknown: the guard refuses
	return b
}

// defaultBranch is SLIPWAY_DEFAULT_BRANCH, else origin's HEAD, else main.
func defaultBranch(ctx context.Context, dir string, lc config.Lifecycle) string {
	if lc.DefaultBranch != "" {
		return lc.DefaultBranch
	}
	if b := gitrepo.DefaultBranch(ctx, dir); b != "" {
		return b
	}
	return "main"
}

// Rollback moves production back one release, or to the stack to names.
func Rollback(ctx context.Context, to *string) error {
	return lifecycle(ctx, func(s *Session, _ config.Lifecycle) error {
		name := ""
		if to != nil {
			name = strings.TrimSpace(*to)
		}
		res, err := s.Flow.RollbackTo(ctx, name)
		summarize(ctx, s, "Rollback to "+res.Stack)
		showTiming(s, res.Timing, true)
		if err != nil {
			annotate(err)
			return err
		}
		fmt.Fprintln(s.Out, res.Stack)
		return nil
	})
}

// TrafficShow prints the production split.
func TrafficShow(ctx context.Context) error {
	return with(ctx, func(s *Session) error {
		rows, err := s.Flow.Traffic(ctx)
		if err != nil {
			return err
		}
		return deploy.PrintTraffic(s.Out, rows)
	})
}

// TrafficSet sets the production split from "a=90 b=10" (spaces or commas).
func TrafficSet(ctx context.Context, split string) error {
	ws, err := deploy.ParseWeights(strings.FieldsFunc(split, func(r rune) bool { return r == ' ' || r == ',' }))
	if err != nil {
		return err
	}
	return lifecycle(ctx, func(s *Session, _ config.Lifecycle) error {
		if err := s.Flow.SetTraffic(ctx, ws); err != nil {
			return err
		}
		summarize(ctx, s, "Traffic split")
		rows, err := s.Flow.Traffic(ctx)
		if err != nil {
			return err
		}
		return deploy.PrintTraffic(s.Out, rows)
	})
}

// Cleanup applies retention; with dryRun (or SLIPWAY_CLEANUP_DRY_RUN) it
// only prints the plan.
func Cleanup(ctx context.Context, dryRun *bool) error {
	return lifecycle(ctx, func(s *Session, lc config.Lifecycle) error {
		dry := lc.CleanupDryRun || (dryRun != nil && *dryRun)
		pol := deploy.CleanupPolicy{KeepReleases: s.Cfg.KeepReleases, Retention: s.Cfg.Retention, Warm: lc.Warm, PreviewTTL: lc.PreviewTTL, Parallel: lc.CleanupParallel}
		plan, timing, err := s.Flow.CleanupTimed(ctx, pol, prState(ctx, s), dry)
		if perr := deploy.PrintPlan(s.Out, plan); perr != nil {
			return errors.Join(err, perr)
		}
		if dry {
			fmt.Fprintln(s.Err, "cleanup: dry run: nothing was changed")
		} else {
			showTiming(s, timing, true)
		}
		return err
	})
}

// summarize appends the status and a picture of the split to the Actions
// step summary, when there is one.
func summarize(ctx context.Context, s *Session, title string) {
	path := os.Getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return
	}
	rows, err := s.Flow.Status(ctx)
	if err != nil && rows == nil {
		fmt.Fprintf(s.Err, "warning: step summary: %v\n", err)
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintf(s.Err, "warning: step summary: %v\n", err)
		return
	}
	werr := deploy.Summary(f, title, rows)
	if err := errors.Join(werr, f.Close()); err != nil {
		fmt.Fprintf(s.Err, "warning: step summary: %v\n", err)
	}
}
