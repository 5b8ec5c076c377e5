package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slipway/slipway/internal/naming"
)

// RollbackResult says where production went back to.
type RollbackResult struct {
	Stack  string   // the stack that now takes all production traffic
	From   []string // the stacks that had traffic before
	Timing *Timing  // where the time went
}

// Errors of rollback's choice.
var (
	// ErrNothingToRollBack is returned when no release before the live one
	// is kept in good standing.
	ErrNothingToRollBack = errors.New("nothing to roll back to")
	// ErrNotRollbackTarget is returned when the stack named with -to
	// cannot take production back: unknown, a preview, failed, or never
	// live.
	ErrNotRollbackTarget = errors.New("not a rollback target")
)

// Rollback moves all production traffic back one release, in one atomic
// change of the split: to the newest kept release, in release order, that
// came before the newest live one. A second rollback goes one release
// further back; a stack rolled back from is never chosen again by a plain
// rollback (RollbackTo names it). A stack that was scaled to zero is
// scaled up and must be healthy first; production does not change until
// then.
func (f *Flow) Rollback(ctx context.Context) (RollbackResult, error) {
	return f.RollbackTo(ctx, "")
}

// RollbackTo is Rollback to the named stack (Rollback when stack is ""):
// any production release that took traffic before and did not fail, older
// or newer than the live one.
func (f *Flow) RollbackTo(ctx context.Context, stack string) (RollbackResult, error) {
	var res RollbackResult
	ctx, tm := f.startTimer(ctx)
	err := f.locked(ctx, "rollback", func(ctx context.Context) error {
		var err error
		res, err = f.rollback(ctx, tm, stack)
		return err
	})
	res.Timing = tm.done("rollback", res.Stack)
	return res, err
}

func (f *Flow) rollback(ctx context.Context, tm *timer, to string) (RollbackResult, error) {
	stacks, err := f.Target.Stacks(ctx)
	if err != nil {
		return RollbackResult{}, fmt.Errorf("rollback: %w", err)
	}
	routes, err := f.Target.Routes(ctx)
	if err != nil {
		return RollbackResult{}, fmt.Errorf("rollback: %w", err)
	}
	res := RollbackResult{From: routes.Live()}
	var target Stack
	if to == "" {
		target, err = previousRelease(stacks, routes)
	} else {
		target, err = namedRelease(stacks, routes, to)
	}
	if err != nil {
		return res, err
	}
	res.Stack = target.Name
	if len(res.From) == 1 && res.From[0] == target.Name {
		f.logf("rollback: %s already takes all production traffic: nothing to do", target.Name)
		return res, nil
	}
	f.logf("rollback: chose %s (commit %s, released %s, last live %s)", target.Name, commitLabel(target), stamp(target.Created), stamp(target.LastLive))
	if err := f.checkSchema(ctx, target, stacks); err != nil {
		return res, err
	}
	if err := tm.phaseIf(target.Scaled, PhaseScaleUp, func() error { return f.ready(ctx, "rollback", target) }); err != nil {
		return res, err
	}
	if err := tm.phase(PhaseShift, func() error {
		return f.Target.SetProduction(ctx, []Weight{{Stack: target.Name, Weight: 100}})
	}); err != nil {
		return res, fmt.Errorf("rollback: move production traffic to %s (production unchanged): %w", target.Name, err)
	}
	f.logf("rollback: %s now takes all production traffic (was %s)", target.Name, list(res.From))
	return res, nil
}

// Release order is what the cloud says: a stack's creation time (the
// local label dev.slipway.created, the aws tag slipway:created-at, written
// at its first deploy and never changed), then its name, which carries
// the release's UTC second and a -2, -3 ... suffix for a second release in
// the same second.
func releasedBefore(a, b Stack) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	if len(a.Name) != len(b.Name) { // shop-prod-...-abc before shop-prod-...-abc-2
		return len(a.Name) < len(b.Name)
	}
	return a.Name < b.Name
}

// rollbackCandidates are the production releases that may take production
// back, newest release first: not failed, live now or at some point.
func rollbackCandidates(stacks []Stack, r Routes) []Stack {
	w := weights(r)
	var out []Stack
	for _, s := range stacks {
		if s.Role == RoleProduction && s.State != StateFailed && (w[s.Name] > 0 || !s.LastLive.IsZero()) {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return releasedBefore(out[j], out[i]) })
	return out
}

// previousRelease is where a plain rollback goes: the newest candidate
// released before the newest live stack that was not rolled back from.
// Production's history is read from release order and the time each stack
// was last live: a stack was rolled back from when an older release was
// live after it (it is then older than the live one, and must not be
// chosen again, or rollbacks toggle between two releases). With nothing
// live, it is the newest candidate.
func previousRelease(stacks []Stack, r Routes) (Stack, error) {
	w := weights(r)
	var head *Stack
	for i, s := range stacks {
		if w[s.Name] > 0 && (head == nil || releasedBefore(*head, s)) {
			head = &stacks[i]
		}
	}
	cands := rollbackCandidates(stacks, r)
	var skipped []string
	for i, c := range cands {
		switch {
		case head != nil && c.Name == head.Name:
		case head != nil && !releasedBefore(c, *head), rolledBackFrom(c, cands[i+1:], w):
			skipped = append(skipped, c.Name)
		default:
			return c, nil
		}
	}
	if head == nil {
		return Stack{}, fmt.Errorf("rollback: %w: no production release in good standing took traffic before", ErrNothingToRollBack)
	}
	hint := "release an older commit instead"
	if len(skipped) > 0 {
		hint = fmt.Sprintf("releases rolled back from are kept: choose one with `go run mage.go rollback -to=STACK` (%s), or release an older commit", list(skipped))
	}
	return Stack{}, fmt.Errorf("rollback: %w: no release before %s is kept in good standing (live: %s); %s", ErrNothingToRollBack, head.Name, list(r.Live()), hint)
}

// rolledBackFrom says whether one of the older releases was live after c.
func rolledBackFrom(c Stack, older []Stack, w map[string]int) bool {
	if w[c.Name] > 0 {
		return false
	}
	for _, o := range older {
		if w[o.Name] > 0 || o.LastLive.After(c.LastLive) {
			return true
		}
	}
	return false
}

// namedRelease is the stack rollback -to names, if it is a candidate.
func namedRelease(stacks []Stack, r Routes, name string) (Stack, error) {
	cands := rollbackCandidates(stacks, r)
	for _, c := range cands {
		if c.Name == name {
			return c, nil
		}
	}
	why := "there is no such stack"
	for _, s := range stacks {
		switch {
		case s.Name != name:
		case s.Role != RoleProduction:
			why = fmt.Sprintf("it is a %s, not a production release", s.Role)
		case s.State == StateFailed:
			why = "it failed its release (tests or canary): a failed stack never takes production back"
		default:
			why = "it never took production traffic (a release that did not finish)"
		}
	}
	return Stack{}, fmt.Errorf("rollback: -to=%s: %w: %s; %s", name, ErrNotRollbackTarget, why, candidateList(cands, r))
}

// candidateList names the candidates for people, newest release first.
func candidateList(cands []Stack, r Routes) string {
	if len(cands) == 0 {
		return "there are no candidates: see `go run mage.go status`"
	}
	w := weights(r)
	parts := make([]string, 0, len(cands))
	for _, c := range cands {
		live := "last live " + stamp(c.LastLive)
		if w[c.Name] > 0 {
			live = "live now"
		}
		parts = append(parts, fmt.Sprintf("%s (commit %s, released %s, %s)", c.Name, commitLabel(c), stamp(c.Created), live))
	}
	return "the candidates, newest release first: " + strings.Join(parts, ", ")
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
