package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Strategy says how a release moves production traffic. The zero value
// moves all of it at once.
type Strategy struct {
	Steps           []int         // percentages for the new stack, e.g. 10, 50, 100; empty: all at once
	Bake            time.Duration // time at each step before the analysis
	MaxErrorRate    float64       // the new stack's 5xx rate may exceed the old one's by at most this (0.01 = 1 point)
	MaxLatencyRatio float64       // the new stack's mean latency may be at most this times the old one's (0: not checked)
	MinRequests     uint64        // fewer requests to the new stack in a step than this: too few to judge, the step passes with a note
}

// ErrCanaryFailed is returned when a canary step's analysis failed and
// traffic was moved back.
var ErrCanaryFailed = errors.New("canary analysis failed")

// shift moves production to stack: at once, or through the canary steps.
func (f *Flow) shift(ctx context.Context, stack string, before []Weight) error {
	steps := f.Strategy.Steps
	if len(steps) == 0 || len(before) == 0 {
		if err := f.Target.SetProduction(ctx, []Weight{{Stack: stack, Weight: 100}}); err != nil {
			return fmt.Errorf("move production traffic to %s: %w", stack, err)
		}
		return nil
	}
	an := f.Target
	for _, pct := range steps {
		if err := f.canaryStep(ctx, an, stack, before, pct); err != nil {
			f.restore(ctx, stack, before)
			f.markFailed(ctx, stack, err.Error())
			return err
		}
	}
	return nil
}

func (f *Flow) canaryStep(ctx context.Context, an Analyzer, stack string, before []Weight, pct int) error {
	split := canarySplit(stack, before, pct)
	if err := f.Target.SetProduction(ctx, split); err != nil {
		return fmt.Errorf("canary: set %d%% on %s: %w", pct, stack, err)
	}
	f.logf("canary: %s takes %d%% of production traffic (%s)", stack, pct, splitString(split))
	if pct >= 100 {
		return nil
	}
	start, err := an.Sample(ctx)
	if err != nil {
		return fmt.Errorf("canary: read metrics: %w", err)
	}
	select {
	case <-ctx.Done():
		return fmt.Errorf("canary: %w", ctx.Err())
	case <-time.After(f.Strategy.Bake):
	}
	end, err := an.Sample(ctx)
	if err != nil {
		return fmt.Errorf("canary: read metrics: %w", err)
	}
	return f.judge(stack, before, pct, delta(start, end))
}

// restore puts the split back as it was before the release.
func (f *Flow) restore(ctx context.Context, stack string, before []Weight) {
	if err := f.Target.SetProduction(context.WithoutCancel(ctx), before); err != nil {
		f.logf("canary: MOVE TRAFFIC BACK FAILED: %v: run `go run mage.go rollback` now", err)
		return
	}
	f.logf("canary: all production traffic moved back off %s (%s)", stack, splitString(before))
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

// judge fails the step when the new stack's targets are not healthy at its
// end, and compares the new stack's error rate and latency over the step
// with the old stacks'.
func (f *Flow) judge(stack string, before []Weight, pct int, d map[string]TrafficSample) error {
	var old TrafficSample
	for _, w := range before {
		if w.Stack != stack {
			o := d[w.Stack]
			old.Requests, old.Errors, old.LatencySum = old.Requests+o.Requests, old.Errors+o.Errors, old.LatencySum+o.LatencySum
		}
	}
	n := d[stack]
	if n.Unhealthy != "" { // before the counts: the ALB fails open, so they may look fine, or be too few to judge
		return fmt.Errorf("canary: %s at %d%%: %w: its targets are not healthy at the end of the bake: %s", stack, pct, ErrCanaryFailed, n.Unhealthy)
	}
	if n.Requests == 0 || n.Requests < f.Strategy.MinRequests {
		f.logf("canary: %d%% step: only %d requests reached %s: too few to judge, going on", pct, n.Requests, stack)
		return nil
	}
	newRate, oldRate := rate(n), rate(old)
	var failed []string
	if newRate-oldRate > f.Strategy.MaxErrorRate {
		failed = append(failed, fmt.Sprintf("error rate %.1f%% (%d of %d requests) against %.1f%% (%d of %d) on the old stacks, limit +%.1f points",
			newRate*100, n.Errors, n.Requests, oldRate*100, old.Errors, old.Requests, f.Strategy.MaxErrorRate*100))
	}
	newLat, oldLat := mean(n), mean(old)
	if f.Strategy.MaxLatencyRatio > 0 && old.Requests > 0 && oldLat > 0 && newLat > f.Strategy.MaxLatencyRatio*oldLat {
		failed = append(failed, fmt.Sprintf("mean latency %.1f ms against %.1f ms on the old stacks, limit %.1f×", newLat*1000, oldLat*1000, f.Strategy.MaxLatencyRatio))
	}
	if len(failed) > 0 {
		return fmt.Errorf("canary: %s at %d%%: %w: %s", stack, pct, ErrCanaryFailed, joinAnd(failed))
	}
	f.logf("canary: %d%% step passed: error rate %.1f%% (%d requests), mean latency %.1f ms", pct, newRate*100, n.Requests, newLat*1000)
	return nil
}

func rate(s TrafficSample) float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.Errors) / float64(s.Requests)
}

func mean(s TrafficSample) float64 {
	if s.Requests == 0 {
		return 0
	}
	return s.LatencySum / float64(s.Requests)
}

func joinAnd(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += "; "
		}
		out += x
	}
	return out
}
