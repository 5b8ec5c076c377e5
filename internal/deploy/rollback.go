package deploy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slipway/slipway/internal/naming"
)

// RollbackResult says where production went back to.
type RollbackResult struct {
	Stack string   // the stack that now takes all production traffic
	From  []string // the stacks that had traffic before
}

// ErrNothingToRollBack is returned when no previous production stack is kept.
var ErrNothingToRollBack = errors.New("nothing to roll back to")

// Rollback moves all production traffic back to the previous retained
// production stack in one atomic change of the split. A stack that was
// scaled to zero is scaled up and must be healthy first; production does
// not change until then.
func (f *Flow) Rollback(ctx context.Context) (RollbackResult, error) {
	var res RollbackResult
	err := f.locked(ctx, "rollback", func(ctx context.Context) error {
		var err error
		res, err = f.rollback(ctx)
		return err
	})
	return res, err
}

func (f *Flow) rollback(ctx context.Context) (RollbackResult, error) {
	stacks, err := f.Target.Stacks(ctx)
	if err != nil {
		return RollbackResult{}, fmt.Errorf("rollback: %w", err)
	}
	routes, err := f.Target.Routes(ctx)
	if err != nil {
		return RollbackResult{}, fmt.Errorf("rollback: %w", err)
	}
	res := RollbackResult{From: routes.Live()}
	target, ok := RollbackTarget(stacks, routes)
	if !ok {
		return res, fmt.Errorf("rollback: %w: no previous production stack is kept (live: %s); release an older commit instead", ErrNothingToRollBack, list(res.From))
	}
	res.Stack = target.Name
	f.logf("rollback: chose %s (commit %s, last live %s), the most recently live previous stack", target.Name, commitLabel(target), stamp(target.LastLive))
	if err := f.checkSchema(ctx, target, stacks); err != nil {
		return res, err
	}
	if err := f.ready(ctx, "rollback", target); err != nil {
		return res, err
	}
	if err := f.Target.SetProduction(ctx, []Weight{{Stack: target.Name, Weight: 100}}); err != nil {
		return res, fmt.Errorf("rollback: move production traffic to %s (production unchanged): %w", target.Name, err)
	}
	f.logf("rollback: %s now takes all production traffic (was %s)", target.Name, list(res.From))
	return res, nil
}

// ready makes sure a stack can take traffic: scaled up if it was scaled to
// zero, healthy otherwise.
func (f *Flow) ready(ctx context.Context, op string, s Stack) error {
	if s.Scaled {
		f.logf("%s: %s was scaled to zero: scaling it up and waiting until it is healthy", op, s.Name)
		if err := f.Target.ScaleUp(ctx, s.Name); err != nil {
			return fmt.Errorf("%s: scale up %s (production unchanged): %w", op, s.Name, err)
		}
		return nil
	}
	if !s.Healthy {
		return fmt.Errorf("%s: %s is not healthy (%s): production unchanged; see `go run mage.go status`", op, s.Name, s.Status)
	}
	return nil
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// commitLabel is the short commit, marked when the image was built from a
// dirty tree: a dirty image is never shown as the clean commit.
func commitLabel(s Stack) string {
	c := naming.ShortCommit(s.Commit)
	if c == "" {
		c = "-"
	}
	if s.Dirty {
		c += "+dirty"
	}
	return c
}

// ParseWeights reads `<stack>=<weight>` arguments.
func ParseWeights(args []string) ([]Weight, error) {
	if len(args) == 0 {
		return nil, errors.New("traffic: name the split, e.g. `go run mage.go traffic:set shop-prod-1=90 shop-prod-2=10`")
	}
	var out []Weight
	seen := map[string]bool{}
	for _, a := range args {
		name, n, ok := strings.Cut(a, "=")
		w, err := strconv.Atoi(n)
		if !ok || name == "" || err != nil || w < 0 || w > 999 {
			return nil, fmt.Errorf("traffic: %q is not <stack>=<weight> with a weight from 0 to 999", a)
		}
		if seen[name] {
			return nil, fmt.Errorf("traffic: %s is named twice", name)
		}
		seen[name] = true
		out = append(out, Weight{Stack: name, Weight: w})
	}
	return out, nil
}
