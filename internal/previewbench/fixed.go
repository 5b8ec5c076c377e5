package previewbench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/config"
	"github.com/slipway/slipway/internal/itest"
	"github.com/slipway/slipway/internal/local"
)

// fixedRepeats is how many times each fixed cost is timed (median kept).
const fixedRepeats = 3

// cost is one step `preview:deploy` runs besides DeployPreview, or a part of
// a DeployPreview phase timed on its own.
type cost struct {
	name string
	d    time.Duration // median
	// before is how many times the command runs the step before the URL
	// can serve the new commit (0: not on that path).
	before int
}

type step struct {
	name   string
	before int
	run    func(context.Context) error
}

// fixedCosts times, after the rounds, the steps of the command that the
// rounds do not include (or include without saying how much).
func (b *bench) fixedCosts(ctx context.Context) ([]cost, error) {
	var out []cost
	for _, s := range b.steps() {
		d, err := medianOf(ctx, s.run)
		if err != nil {
			return out, fmt.Errorf("time %s: %w", s.name, err)
		}
		out = append(out, cost{name: s.name, d: d, before: s.before})
	}
	return out, nil
}

func (b *bench) steps() []step {
	host := b.cfg.PreviewHost(fmt.Sprintf("pr-%d", previewPR))
	base, _ := b.flow.Routing.Dial(host)
	steps := []step{
		{"docker connect and ping (commands.Open)", 1, func(ctx context.Context) error {
			cli, err := local.Connect(ctx)
			if err == nil {
				_ = cli.Close() // a client close frees nothing remote
			}
			return err
		}},
		{"detect commit with git (build.Detect, run by Build; the router's git calls are in its column)", 1, func(ctx context.Context) error {
			_, err := build.Detect(ctx, b.o.ModuleDir)
			return err
		}},
		{"go test start-up, no test run (part of the tests column)", 0, func(ctx context.Context) error {
			return goCmd(ctx, b.o.ModuleDir, []string{"SLIPWAY_BASE_URL=" + base, "SLIPWAY_HOST=" + host}, "test", "-count=1", "-run", "^$", itest.Package)
		}},
	}
	if b.o.Mage {
		env := []string{"SLIPWAY_APP=" + b.app, "SLIPWAY_TARGET=" + config.TargetLocal}
		steps = append(steps, step{"go run mage.go config (bootstrap: parse, generate, compile the magefile)", 1, func(ctx context.Context) error {
			return goCmd(ctx, b.o.ModuleDir, env, "run", "mage.go", "config")
		}})
	}
	return steps
}

// medianOf runs fn once untimed (to warm caches), then fixedRepeats times.
func medianOf(ctx context.Context, fn func(context.Context) error) (time.Duration, error) {
	if err := fn(ctx); err != nil {
		return 0, err
	}
	ds := make([]time.Duration, 0, fixedRepeats)
	for range fixedRepeats {
		start := time.Now()
		if err := fn(ctx); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
	}
	return median(ds), nil
}

// goCmd runs the go command in dir, quietly unless it fails.
func goCmd(ctx context.Context, dir string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// median returns the middle value (the mean of the two middle ones for an
// even count); 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}
