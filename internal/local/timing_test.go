package local_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/deploy/timingtest"
)

// A local preview deploy, its replacement by a new commit, a release and
// a rollback each end with their timing: the phases that happened, in
// order, summing to at most the total, and a table naming the slowest.
// Durations are never compared with numbers.
func TestEveryLocalDeployEndsWithItsTiming(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 8})
	if err != nil {
		t.Fatal(err)
	}
	timingtest.Phases(t, first.Timing, deploy.PhaseBuild, deploy.PhaseStack, deploy.PhaseHealthy, deploy.PhaseShift, deploy.PhaseTests)
	e.builder.set(images.appB)
	second, err := e.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: 8})
	if err != nil {
		t.Fatal(err)
	}
	// The old container is drained; the host already routes to the stack.
	timingtest.Phases(t, second.Timing, deploy.PhaseBuild, deploy.PhaseStack, deploy.PhaseHealthy, deploy.PhaseDrain, deploy.PhaseTests)
	for _, p := range second.Timing.Phases {
		if p.Name == deploy.PhaseDrain && !strings.Contains(p.Setting, "SLIPWAY_DRAIN_TIMEOUT 5s") {
			t.Errorf("the drain should name its setting and value: %+v", p)
		}
		if p.Name == deploy.PhaseHealthy && !strings.Contains(p.Setting, "health.interval 500ms") {
			t.Errorf("the health wait should name its settings and values: %+v", p)
		}
	}

	v1 := e.release(t, images.appA, nil, 0)
	timingtest.Phases(t, v1.Timing, deploy.PhaseBuild, deploy.PhaseStack, deploy.PhaseHealthy, deploy.PhaseTests, deploy.PhaseShift)
	e.release(t, images.appB, nil, 1)
	rb, err := e.flow.Rollback(ctx)
	if err != nil {
		t.Fatal(err)
	}
	timingtest.Phases(t, rb.Timing, deploy.PhaseShift)

	var b strings.Builder
	if err := deploy.WriteTiming(&b, *v1.Timing); err != nil {
		t.Fatal(err)
	}
	slow, _ := v1.Timing.Slowest()
	if out := b.String(); !strings.HasPrefix(out, "timing: release "+v1.Stack+"\n") || !strings.Contains(out, "slowest: "+slow.Name) {
		t.Errorf("the table should name the release and its slowest phase:\n%s", out)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, tm := range []*deploy.Timing{second.Timing, rb.Timing} {
		must(deploy.WriteTiming(&b, *tm))
	}
	t.Log("\n" + b.String())
}
