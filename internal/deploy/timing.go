package deploy

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/slipway/slipway/internal/manifest"
)

// Phases a deploy goes through, in the order they happen. A phase that did
// not happen is absent from a Timing, never zero.
const (
	PhaseBuild    = "build"                  // build (and push) the image, or reuse it
	PhaseDatabase = "database clone/migrate" // the preview's clone, a release's migrations
	PhaseStack    = "stack create/update"    // the target's stack, less the waits below
	PhaseRunning  = "running"                // aws: until ECS runs the new tasks
	PhaseHealthy  = "target healthy"         // until the health check first passes
	PhaseTests    = "tests"                  // the integration tests
	PhaseShift    = "route/rule shift"       // the host rule, or production's split
	PhaseDrain    = "drain"                  // old targets finish their requests
	PhaseScaleUp  = "scale up"               // rollback: a stack scaled to zero comes back
	PhaseDelete   = "stack delete"           // cleanup: the stacks it removes
)

// Phase is one step of a deploy and how long it took.
type Phase struct {
	Name string
	Took time.Duration
	Note string // what else to know ("image reused")
	// Setting is what governs a wait and its value, for the line that
	// names the slowest phase: "health.interval 5s, health.healthy_threshold 2".
	Setting string
}

// Timing is where a deploy's time went: its phases in order and the total,
// measured on a monotonic clock. The phases sum to at most the total; the
// rest is what no phase names (reading routes, reports, the lock).
type Timing struct {
	Op     string // preview, release, rollback, cleanup
	Stack  string
	Phases []Phase
	Total  time.Duration
}

// Slowest is the phase that took longest; false when there is none.
func (t Timing) Slowest() (Phase, bool) {
	var best Phase
	found := false
	for _, p := range t.Phases {
		if !found || p.Took > best.Took {
			best, found = p, true
		}
	}
	return best, found
}

// SlowestLine names the slowest phase and, for a wait, what governs it.
func (t Timing) SlowestLine() string {
	p, ok := t.Slowest()
	if !ok {
		return ""
	}
	s := fmt.Sprintf("slowest: %s, %s", p.Name, Round(p.Took))
	if p.Setting != "" {
		s += " (governed by " + p.Setting + ")"
	}
	return s
}

// Round is a duration as a table shows it: milliseconds below a second,
// tenths of a second below a minute, whole seconds above.
func Round(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// WriteTiming writes t as the table a command ends with: each phase, its
// duration and share of the total, then the slowest phase.
func WriteTiming(w io.Writer, t Timing) error {
	var b strings.Builder
	fmt.Fprintf(&b, "timing: %s\n", strings.TrimSpace(t.Op+" "+t.Stack))
	width := len("total")
	for _, p := range t.Phases {
		width = max(width, len(p.Name))
	}
	for _, p := range t.Phases {
		line := fmt.Sprintf("  %-*s  %7s  %4s", width, p.Name, Round(p.Took), Share(p.Took, t.Total))
		if p.Note != "" {
			line += "  " + p.Note
		}
		b.WriteString(line + "\n")
	}
	fmt.Fprintf(&b, "  %-*s  %7s\n", width, "total", Round(t.Total))
	if line := t.SlowestLine(); line != "" {
		b.WriteString("  " + line + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Share is d's whole percent of total.
func Share(d, total time.Duration) string {
	if total <= 0 {
		return "-"
	}
	return fmt.Sprintf("%d%%", int(100*d/total))
}

// HealthSetting says which settings govern a health wait, and their
// values: h's, or the target's default def where h leaves them zero.
func HealthSetting(h, def manifest.Health) string {
	if h.Interval <= 0 {
		h.Interval = def.Interval
	}
	if h.HealthyThreshold <= 0 {
		h.HealthyThreshold = def.HealthyThreshold
	}
	return fmt.Sprintf("health.interval %s, health.healthy_threshold %d", h.Interval, h.HealthyThreshold)
}

// timer measures one deploy's phases. Targets add the waits they measure
// inside a call the flow times (RecordPhase); the flow's phase is then
// what remains of the call.
type timer struct {
	mu     sync.Mutex
	now    func() time.Time
	start  time.Time
	phases []Phase
}

type timerKey struct{}

// startTimer starts timing a deploy; ctx carries it to the target.
func (f *Flow) startTimer(ctx context.Context) (context.Context, *timer) {
	now := f.Clock
	if now == nil {
		now = time.Now // keeps the monotonic reading: Sub uses it
	}
	t := &timer{now: now, start: now()}
	return context.WithValue(ctx, timerKey{}, t), t
}

// RecordPhase adds a phase a target measured during a call the flow times
// (a health wait, a drain). Without a timer in ctx it does nothing.
func RecordPhase(ctx context.Context, p Phase) {
	if t, ok := ctx.Value(timerKey{}).(*timer); ok && t != nil {
		t.mu.Lock()
		t.phases = append(t.phases, p)
		t.mu.Unlock()
	}
}

// Since is the time since start on ctx's deploy clock, for targets that
// time a wait; time.Since when ctx carries no timer.
func Since(ctx context.Context, start time.Time) time.Duration {
	if t, ok := ctx.Value(timerKey{}).(*timer); ok && t != nil {
		return t.now().Sub(start)
	}
	return time.Since(start)
}

// Now is the deploy clock's reading, to pass to Since.
func Now(ctx context.Context) time.Time {
	if t, ok := ctx.Value(timerKey{}).(*timer); ok && t != nil {
		return t.now()
	}
	return time.Now()
}

// phase runs fn as the named phase. Phases the target records during fn
// follow it, and its own duration is what they leave.
func (t *timer) phase(name string, fn func() error) error {
	return t.phaseOf(Phase{Name: name}, fn)
}

// phaseOf is phase with the phase's note and setting.
func (t *timer) phaseOf(own Phase, fn func() error) error {
	if t == nil {
		return fn()
	}
	t.mu.Lock()
	n := len(t.phases)
	t.mu.Unlock()
	start := t.now()
	err := fn()
	took := t.now().Sub(start)
	t.mu.Lock()
	defer t.mu.Unlock()
	inner := t.phases[n:]
	for _, p := range inner {
		took -= p.Took
	}
	own.Took = max(took, 0)
	t.phases = append(t.phases[:n], append([]Phase{own}, inner...)...)
	return err
}

// phaseIf is phase when it happens, else fn alone: a phase that did not
// happen is absent.
func (t *timer) phaseIf(happens bool, name string, fn func() error) error {
	if !happens {
		return fn()
	}
	return t.phase(name, fn)
}

// build builds (and pushes) the image as the build phase.
func (f *Flow) build(ctx context.Context, t *timer, purpose string) (Image, error) {
	var img Image
	err := t.phase(PhaseBuild, func() (err error) { img, err = f.Builder.Build(ctx, purpose); return err })
	if err != nil {
		return img, fmt.Errorf("build image: %w", err)
	}
	return img, nil
}

// shiftPhase is the release's traffic shift: a canary's steps and bakes
// are governed by its settings.
func (f *Flow) shiftPhase(before []Weight) Phase {
	st := f.Strategy
	if len(st.Steps) == 0 || len(before) == 0 {
		return Phase{Name: PhaseShift}
	}
	steps := make([]string, len(st.Steps))
	for i, n := range st.Steps {
		steps[i] = fmt.Sprint(n)
	}
	return Phase{Name: PhaseShift, Note: "canary " + strings.Join(steps, "→") + "%",
		Setting: fmt.Sprintf("SLIPWAY_CANARY_STEPS %s, SLIPWAY_CANARY_BAKE %s", strings.Join(steps, ","), st.Bake)}
}

// hasChanges says whether a cleanup plan scales down or deletes a stack.
func hasChanges(plan []PlanItem) bool {
	for _, it := range plan {
		if it.Action == ActionDelete || it.Action == ActionScaleDown {
			return true
		}
	}
	return false
}

// done is the record of the deploy so far.
func (t *timer) done(op, stack string) *Timing {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return &Timing{Op: op, Stack: stack, Phases: append([]Phase(nil), t.phases...), Total: t.now().Sub(t.start)}
}
