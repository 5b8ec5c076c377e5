package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Strategy says how a release moves production traffic. The zero value
// moves all of it at once.
type Strategy struct {
	Steps           []int         // percentages for the new stack, e.g. 10, 50, 100; empty: all at once
	Bake            time.Duration // time at each step before the analysis
	MaxErrorRate    float64       // the new stack's 5xx rate may exceed the old one's by at most this (0.01 = 1 point)
	MaxLatencyRatio float64       // the new stack's mean latency may be at most this times the old one's (0: not checked)
	MinRequests     uint64        // fewer requests to the new stack in a step than this (and never 0): too few to judge

	// MaxBake bounds a step that has too few requests to judge at the end
	// of its bake: it bakes on until it has MinRequests or MaxBake has
	// passed since the step began (at most Bake when MaxBake is smaller).
	// Still too few then, the step fails like a failed analysis, unless
	// AllowUnjudged lets it go on with a note.
	MaxBake       time.Duration
	AllowUnjudged bool
	// Poll is how often the counters are read during a step: at each read
	// an error rate already over the limit beyond doubt fails the step
	// without waiting for the rest of the bake. 0: once per Bake.
	Poll time.Duration
	// Report is where the table of the steps' figures goes when the canary
	// ends, passed or failed; nil: the Flow's Log.
	Report io.Writer
}

// ErrCanaryFailed is returned when a canary step's analysis failed and
// traffic was moved back.
var ErrCanaryFailed = errors.New("canary analysis failed")

// ErrCanaryUnjudged is returned when a step still had too few requests to
// judge at MaxBake and unjudged steps were not allowed: traffic was moved
// back as for a failed analysis. It is an ErrCanaryFailed.
var ErrCanaryUnjudged = fmt.Errorf("%w: too few requests to judge", ErrCanaryFailed)

// shift moves production to stack: at once, or through the canary steps,
// ending with the table of the steps' figures.
func (f *Flow) shift(ctx context.Context, stack string, before []Weight) error {
	steps := f.Strategy.Steps
	if len(steps) == 0 || len(before) == 0 {
		if err := f.Target.SetProduction(ctx, []Weight{{Stack: stack, Weight: 100}}); err != nil {
			return fmt.Errorf("move production traffic to %s: %w", stack, err)
		}
		return nil
	}
	an := f.Target
	rows := make([]CanaryStep, 0, len(steps))
	for i, pct := range steps {
		row, err := f.canaryStep(ctx, an, stack, before, pct)
		rows = append(rows, row)
		if err != nil {
			f.restore(ctx, stack, before)
			f.markFailed(ctx, stack, err.Error())
			for _, rest := range steps[i+1:] {
				rows = append(rows, CanaryStep{Percent: rest, Verdict: VerdictNotReached})
			}
			f.reportSteps(stack, rows)
			return err
		}
	}
	f.reportSteps(stack, rows)
	return nil
}

// canaryStep gives stack pct percent of production, bakes and judges the
// step. Its row says what the step saw and decided, whatever the outcome.
func (f *Flow) canaryStep(ctx context.Context, an Analyzer, stack string, before []Weight, pct int) (CanaryStep, error) {
	row := CanaryStep{Percent: pct}
	split := canarySplit(stack, before, pct)
	if err := f.Target.SetProduction(ctx, split); err != nil {
		row.Verdict = VerdictNotSet
		return row, fmt.Errorf("canary: set %d%% on %s: %w", pct, stack, err)
	}
	f.logf("canary: %s takes %d%% of production traffic (%s)", stack, pct, SplitString(split))
	if pct >= 100 {
		row.Verdict = VerdictAllTraffic
		return row, nil
	}
	start, err := an.Sample(ctx)
	if err != nil {
		row.Verdict = VerdictNoFigures
		return row, fmt.Errorf("canary: read metrics: %w", err)
	}
	plan, began := f.Strategy.bakePlan(), time.Now()
	for {
		if err := sleep(ctx, plan.next(time.Since(began))); err != nil {
			row.Verdict = VerdictInterrupted
			return row, fmt.Errorf("canary: %w", err)
		}
		end, err := an.Sample(ctx)
		if err != nil {
			row.Verdict = VerdictNoFigures
			return row, fmt.Errorf("canary: read metrics: %w", err)
		}
		d := delta(start, end)
		row.Baked, row.New, row.Old = time.Since(began), d[stack], oldStacks(d, stack, before)
		if done, err := f.decide(&row, stack, plan); done || err != nil {
			return row, err
		}
	}
}

// bakePlan is when a step's counters are read: every poll, at the end of
// the bake and at the bound of its extension.
type bakePlan struct{ bake, bound, poll time.Duration }

func (s Strategy) bakePlan() bakePlan {
	p := bakePlan{bake: s.Bake, bound: max(s.MaxBake, s.Bake), poll: s.Poll}
	if p.poll <= 0 {
		p.poll = s.Bake
	}
	if p.poll <= 0 {
		p.poll = 100 * time.Millisecond
	}
	return p
}

// next is how long to wait, elapsed into the step, for the next reading:
// a poll, but never past the end of the bake or the bound.
func (p bakePlan) next(elapsed time.Duration) time.Duration {
	w := p.poll
	for _, mark := range []time.Duration{p.bake, p.bound} {
		if elapsed < mark && mark-elapsed < w {
			w = mark - elapsed
		}
	}
	return w
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// restore puts the split back as it was before the release.
func (f *Flow) restore(ctx context.Context, stack string, before []Weight) {
	if err := f.Target.SetProduction(context.WithoutCancel(ctx), before); err != nil {
		f.logf("canary: MOVE TRAFFIC BACK FAILED: %v: run `go run mage.go rollback` now", err)
		return
	}
	f.logf("canary: all production traffic moved back off %s (%s)", stack, SplitString(before))
}

// canarySplit gives stack pct percent and the stacks live before the rest,
// in their old proportions.
func canarySplit(stack string, before []Weight, pct int) []Weight {
	if pct >= 100 {
		return []Weight{{Stack: stack, Weight: 100}}
	}
	total := 0
	for _, w := range before {
		total += w.Weight
	}
	out := []Weight{{Stack: stack, Weight: pct * 10}}
	for _, w := range before {
		if w.Weight > 0 && w.Stack != stack {
			out = append(out, Weight{Stack: w.Stack, Weight: w.Weight * (100 - pct) * 10 / total})
		}
	}
	return out
}

// delta is what the counters did between two samples, and the health at
// the second.
func delta(a, b map[string]TrafficSample) map[string]TrafficSample {
	out := map[string]TrafficSample{}
	for k, e := range b {
		s := a[k]
		if e.Requests < s.Requests || e.Errors < s.Errors { // the counters restarted (a router restart): count from zero
			s = TrafficSample{}
		}
		out[k] = TrafficSample{Requests: e.Requests - s.Requests, Errors: e.Errors - s.Errors, LatencySum: e.LatencySum - s.LatencySum, Unhealthy: e.Unhealthy}
	}
	return out
}

// oldStacks sums the counters of the stacks live before the release.
func oldStacks(d map[string]TrafficSample, stack string, before []Weight) TrafficSample {
	var old TrafficSample
	for _, w := range before {
		if w.Stack != stack {
			o := d[w.Stack]
			old.Requests, old.Errors, old.LatencySum = old.Requests+o.Requests, old.Errors+o.Errors, old.LatencySum+o.LatencySum
		}
	}
	return old
}
