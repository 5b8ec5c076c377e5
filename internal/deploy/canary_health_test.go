package deploy

import (
	"errors"
	"strings"
	"testing"
)

// A canary step fails when the new stack's targets are not healthy at the
// end of its bake, whatever its counters say: they may be clean (the ALB
// fails open onto unhealthy targets) or too few to judge.
func TestCanaryStepJudgesHealthAtTheEndOfTheBake(t *testing.T) {
	before := []Weight{{Stack: "old", Weight: 100}}
	for _, tc := range []struct {
		name       string
		start, end TrafficSample
		want       string // "" : the step passes
	}{
		{"healthy at the end, clean figures", TrafficSample{}, TrafficSample{Requests: 100}, ""},
		{"unhealthy at the start only", TrafficSample{Unhealthy: "10.0.1.23 initial ()"}, TrafficSample{Requests: 100}, ""},
		{"unhealthy at the end, clean figures", TrafficSample{}, TrafficSample{Requests: 100, Unhealthy: "1 of 2 targets fail their health check: 10.0.1.23 unhealthy (codes: [502])"},
			"canary: new at 10%: canary analysis failed: its targets are not healthy at the end of the bake: 1 of 2 targets fail their health check: 10.0.1.23 unhealthy (codes: [502])"},
		{"unhealthy at the end, too few requests to judge", TrafficSample{}, TrafficSample{Unhealthy: "no healthy target in its target group: no targets registered"},
			"canary analysis failed: its targets are not healthy at the end of the bake: no healthy target in its target group: no targets registered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &Flow{Strategy: Strategy{MaxErrorRate: 0.01}}
			d := delta(map[string]TrafficSample{"new": tc.start, "old": {}}, map[string]TrafficSample{"new": tc.end, "old": {Requests: 900}})
			row := CanaryStep{Percent: 10, Baked: 1, New: d["new"], Old: oldStacks(d, "new", before)}
			done, err := f.decide(&row, "new", bakePlan{})
			switch {
			case !done:
				t.Fatalf("no verdict at the end of the bake and its bound: %+v", row)
			case tc.want == "" && err != nil:
				t.Fatalf("step failed: %v", err)
			case tc.want != "" && (!errors.Is(err, ErrCanaryFailed) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("step: %v, want ErrCanaryFailed with %q", err, tc.want)
			}
		})
	}
}
