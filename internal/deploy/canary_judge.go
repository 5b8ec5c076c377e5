package deploy

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// The verdict on a canary step. While the step bakes, every reading may
// fail it early on errors (clearlyOver). From the end of its bake on, a
// step whose new stack is not healthy fails; one with enough requests is
// judged on its error rate and latency (judge); one with too few bakes on
// up to the bound, then is unjudged: it fails unless that is allowed.

// confidenceZ is the one-sided normal quantile of the early verdict: the
// error rate is over its limit beyond doubt when the lower end of its
// 99.95 % Wilson score interval is.
const (
	confidenceZ     = 3.29
	confidenceLabel = "99.95%"
)

// decide updates row's verdict from its latest figures. done: the step is
// over, passed (err nil) or failed.
func (f *Flow) decide(row *CanaryStep, stack string, p bakePlan) (done bool, err error) {
	enough := row.New.Requests >= f.Strategy.minRequests()
	if row.Baked < p.bake || !enough {
		if why := f.Strategy.clearlyOver(row.New, row.Old); why != "" {
			row.Verdict = VerdictFailedEarly
			return true, fmt.Errorf("canary: %s at %d%%: %w: %s, %s into the step", stack, row.Percent, ErrCanaryFailed, why, duration(row.Baked))
		}
	}
	switch {
	case row.Baked < p.bake:
		return false, nil
	case row.New.Unhealthy != "": // before the counts: the ALB fails open, so they may look fine, or be too few to judge
		row.Verdict = VerdictUnhealthy
		return true, fmt.Errorf("canary: %s at %d%%: %w: its targets are not healthy at the end of the bake: %s", stack, row.Percent, ErrCanaryFailed, row.New.Unhealthy)
	case enough:
		return true, f.judge(row, stack)
	case row.Baked < p.bound:
		if !row.Extended {
			row.Extended = true
			f.logf("canary: %d%% step: only %d requests reached %s in the %s bake, fewer than %d: baking on until there are, for at most %s in all (SLIPWAY_CANARY_MAX_BAKE)",
				row.Percent, row.New.Requests, stack, duration(p.bake), f.Strategy.minRequests(), duration(p.bound))
		}
		return false, nil
	}
	return true, f.unjudged(row, stack)
}

func (s Strategy) minRequests() uint64 { return max(s.MinRequests, 1) }

// judge compares the new stack's error rate and latency over the step
// with the old stacks'.
func (f *Flow) judge(row *CanaryStep, stack string) error {
	n, old := row.New, row.Old
	var failed, short []string
	if rate(n)-rate(old) > f.Strategy.MaxErrorRate {
		failed, short = append(failed, errorFigures(n, old, f.Strategy.MaxErrorRate)), append(short, "error rate")
	}
	newLat, oldLat := mean(n), mean(old)
	if f.Strategy.MaxLatencyRatio > 0 && old.Requests > 0 && oldLat > 0 && newLat > f.Strategy.MaxLatencyRatio*oldLat {
		failed = append(failed, fmt.Sprintf("mean latency %.1f ms against %.1f ms on the old stacks, limit %.1f×", newLat*1000, oldLat*1000, f.Strategy.MaxLatencyRatio))
		short = append(short, "latency")
	}
	if len(failed) > 0 {
		row.Verdict = "failed: " + strings.Join(short, ", ")
		return fmt.Errorf("canary: %s at %d%%: %w: %s", stack, row.Percent, ErrCanaryFailed, strings.Join(failed, "; "))
	}
	row.Verdict = VerdictPassed
	f.logf("canary: %d%% step passed: error rate %.1f%% (%d requests), mean latency %.1f ms", row.Percent, rate(n)*100, n.Requests, newLat*1000)
	return nil
}

// unjudged ends a step that still has too few requests at its bound.
func (f *Flow) unjudged(row *CanaryStep, stack string) error {
	s := f.Strategy
	few := fmt.Sprintf("only %d requests reached %s in %s, fewer than the %d needed to judge it (SLIPWAY_CANARY_MIN_REQUESTS)", row.New.Requests, stack, duration(row.Baked), s.minRequests())
	if s.AllowUnjudged {
		row.Verdict = VerdictUnjudgedAllowed
		f.logf("canary: %d%% step: %s: going on unjudged, as allowed (-allowUnjudged, SLIPWAY_CANARY_ALLOW_UNJUDGED)", row.Percent, few)
		return nil
	}
	row.Verdict = VerdictUnjudged
	return fmt.Errorf("canary: %s at %d%%: %w: %s; send it traffic during the steps, bake longer (SLIPWAY_CANARY_BAKE, SLIPWAY_CANARY_MAX_BAKE), or go on without a verdict with -allowUnjudged (SLIPWAY_CANARY_ALLOW_UNJUDGED=1)",
		stack, row.Percent, ErrCanaryUnjudged, few)
}

// clearlyOver says why the new stack's error rate is already over the
// limit beyond doubt, however few its requests: the lower end of its
// Wilson score interval is above the old stacks' rate plus MaxErrorRate.
// "" when it is not, or not yet.
func (s Strategy) clearlyOver(n, old TrafficSample) string {
	if n.Errors == 0 || n.Requests == 0 {
		return ""
	}
	low := wilsonLower(n.Errors, n.Requests, confidenceZ)
	if low <= rate(old)+s.MaxErrorRate {
		return ""
	}
	return fmt.Sprintf("%s: at least %.1f%% with %s confidence", errorFigures(n, old, s.MaxErrorRate), low*100, confidenceLabel)
}

func errorFigures(n, old TrafficSample, limit float64) string {
	return fmt.Sprintf("error rate %.1f%% (%d of %d requests) against %.1f%% (%d of %d) on the old stacks, limit +%.1f points",
		rate(n)*100, n.Errors, n.Requests, rate(old)*100, old.Errors, old.Requests, limit*100)
}

// wilsonLower is the lower end of the Wilson score interval of errs
// failures in n trials at normal quantile z.
func wilsonLower(errs, n uint64, z float64) float64 {
	if n == 0 {
		return 0
	}
	nf, p, z2 := float64(n), float64(errs)/float64(n), z*z
	return (p + z2/(2*nf) - z*math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))) / (1 + z2/nf)
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

// duration rounds d for people: milliseconds under a second, else tenths.
func duration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
