package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/slipway/slipway/internal/naming"
)

// CleanupPolicy says what is kept.
type CleanupPolicy struct {
	KeepReleases int           // previous production stacks kept for rollback (SLIPWAY_KEEP_RELEASES)
	Retention    time.Duration // a previous stack is deleted this long after it was last live (SLIPWAY_RETENTION)
	Warm         time.Duration // a previous stack is scaled to zero this long after it was last live (SLIPWAY_WARM)
	PreviewTTL   time.Duration // a preview is deleted this long after its last deploy (SLIPWAY_PREVIEW_TTL)
	Parallel     int           // deletions at once (SLIPWAY_CLEANUP_PARALLEL); at least 1
}

// Cleanup actions.
const (
	ActionKeep      = "keep"
	ActionDelete    = "delete"
	ActionScaleDown = "scale-down"
)

// PlanItem is what cleanup does with one stack, and why.
type PlanItem struct {
	Stack, Role, Action, Reason string
	PR                          int // a preview database's pull request (RoleDatabase rows)
}

// PRState answers whether a pull request is still open (asked of GitHub,
// which catches close events that were missed).
type PRState interface {
	PROpen(ctx context.Context, pr int) (bool, error)
}

// Plan decides, for every stack, whether cleanup keeps it, scales it to
// zero or deletes it. It never deletes the live stack, the rollback target,
// the shared stack or a stack with an operation in progress. closed holds
// the pull requests known to be closed.
func Plan(app string, stacks []Stack, r Routes, pol CleanupPolicy, closed map[int]bool, now time.Time) []PlanItem {
	w := weights(r)
	target, hasTarget := RollbackTarget(stacks, r)
	prev := previousStacks(stacks, r)
	rank := make(map[string]int, len(prev))
	for i, s := range prev {
		rank[s.Name] = i
	}
	out := make([]PlanItem, 0, len(stacks))
	for _, s := range stacks {
		role := lifecycleRole(s, w)
		it := PlanItem{Stack: s.Name, Role: role, Action: ActionKeep}
		switch {
		case s.Name == app+"-shared":
			it.Reason = "shared stack"
		case s.Busy:
			it.Reason = "an operation is in progress: " + s.Status
		case role == RoleLive:
			it.Reason = "live"
		case role == RolePreview && isCompatStack(app, s):
			it.Action, it.Reason = compatAction(s, now)
		case role == RolePreview:
			it.Action, it.Reason = previewAction(s, pol, closed, now)
		case role == RoleCheck:
			it.Action, it.Reason = checkAction(s, now)
		case role == RoleFailed:
			it.Action, it.Reason = ActionDelete, "failed release"
		case role == RoleNew:
			it.Action, it.Reason = newAction(s, pol, now)
		case hasTarget && s.Name == target.Name:
			it.Action, it.Reason = warmAction(s, pol, now, "rollback target")
		default:
			it.Action, it.Reason = previousAction(s, rank[s.Name], pol, now)
		}
		out = append(out, it)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Stack < out[j].Stack })
	return out
}

func previewAction(s Stack, pol CleanupPolicy, closed map[int]bool, now time.Time) (string, string) {
	switch idle := now.Sub(s.Created); {
	case s.PR > 0 && closed[s.PR]:
		return ActionDelete, fmt.Sprintf("pull request #%d is closed", s.PR)
	case pol.PreviewTTL > 0 && idle > pol.PreviewTTL:
		return ActionDelete, fmt.Sprintf("idle %s since its last deploy (TTL %s)", age(idle), age(pol.PreviewTTL))
	}
	return ActionKeep, "preview in use"
}

// newAction: a production stack that never took traffic and is not marked
// failed was left by an interrupted release (cleanup holds the lock, so no
// release runs now). It goes only after the retention period: a target
// that failed to report when a stack was live must not lose a rollback
// target to this rule.
func newAction(s Stack, pol CleanupPolicy, now time.Time) (string, string) {
	if pol.Retention > 0 && now.Sub(s.Created) > pol.Retention {
		return ActionDelete, fmt.Sprintf("never took traffic, older than retention %s (an interrupted release)", age(pol.Retention))
	}
	return ActionKeep, "never took traffic yet"
}

func warmAction(s Stack, pol CleanupPolicy, now time.Time, why string) (string, string) {
	if !s.Scaled && pol.Warm > 0 && now.Sub(s.LastLive) > pol.Warm {
		return ActionScaleDown, fmt.Sprintf("%s, not live for %s (warm window %s)", why, age(now.Sub(s.LastLive)), age(pol.Warm))
	}
	return ActionKeep, why
}

func previousAction(s Stack, rank int, pol CleanupPolicy, now time.Time) (string, string) {
	switch idle := now.Sub(s.LastLive); {
	case rank >= pol.KeepReleases:
		return ActionDelete, fmt.Sprintf("older than the %d kept releases (SLIPWAY_KEEP_RELEASES)", pol.KeepReleases)
	case pol.Retention > 0 && idle > pol.Retention:
		return ActionDelete, fmt.Sprintf("not live for %s, past retention %s (SLIPWAY_RETENTION)", age(idle), age(pol.Retention))
	}
	return warmAction(s, pol, now, fmt.Sprintf("kept release %d of %d", rank+1, pol.KeepReleases))
}

// PrintPlan writes the plan as a table.
func PrintPlan(w io.Writer, plan []PlanItem) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STACK\tROLE\tACTION\tWHY")
	for _, it := range plan {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Stack, it.Role, it.Action, it.Reason)
	}
	return tw.Flush()
}

// Cleanup plans and, unless dryRun, carries the plan out under the app's
// lock: scale-downs first, then deletions, at most Parallel at once. One
// failed deletion does not stop the others; all failures are returned.
func (f *Flow) Cleanup(ctx context.Context, pol CleanupPolicy, prs PRState, dryRun bool) ([]PlanItem, error) {
	plan, _, err := f.CleanupTimed(ctx, pol, prs, dryRun)
	return plan, err
}

// CleanupTimed is Cleanup that also says where its time went. Deletions
// run in parallel, so their drains are one phase with them.
func (f *Flow) CleanupTimed(ctx context.Context, pol CleanupPolicy, prs PRState, dryRun bool) ([]PlanItem, *Timing, error) {
	var plan []PlanItem
	ctx, tm := f.startTimer(ctx)
	err := f.locked(ctx, "cleanup", func(ctx context.Context) error {
		stacks, err := f.Target.Stacks(ctx)
		if err != nil {
			return fmt.Errorf("cleanup: %w", err)
		}
		routes, err := f.Target.Routes(ctx)
		if err != nil {
			return fmt.Errorf("cleanup: %w (nothing deleted: without the routing, cleanup cannot tell what is live)", err)
		}
		plan = Plan(f.App, stacks, routes, pol, f.closedPRs(ctx, prs, stacks), f.now())
		dbs, err := f.databasePlan(ctx, stacks, plan)
		if err != nil {
			return err
		}
		plan = append(plan, dbs...)
		contracts, err := f.contractPlan(ctx, stacks, routes, plan)
		if err != nil {
			return err
		}
		plan = append(plan, contracts...)
		if dryRun {
			return nil
		}
		var applied error
		_ = tm.phaseIf(hasChanges(plan), PhaseDelete, func() error {
			applied = f.apply(context.WithValue(ctx, timerKey{}, (*timer)(nil)), plan, pol.Parallel)
			return nil
		})
		if err := errors.Join(applied, f.dropDatabases(ctx, plan)); err != nil {
			return err // a stack that stays may still need the old schema
		}
		f.removeStaleImageTags(ctx, stacks, plan)
		return f.runContracts(ctx, stacks, routes, plan)
	})
	return plan, tm.done("cleanup", ""), err
}

func (f *Flow) closedPRs(ctx context.Context, prs PRState, stacks []Stack) map[int]bool {
	closed := map[int]bool{}
	if prs == nil {
		return closed
	}
	for _, s := range stacks {
		if s.Role != RolePreview || s.PR == 0 {
			continue
		}
		open, err := prs.PROpen(ctx, s.PR)
		if err != nil {
			f.logf("cleanup: warning: ask GitHub about #%d: %v (its preview is kept unless idle past the TTL)", s.PR, err)
			continue
		}
		closed[s.PR] = !open
	}
	return closed
}

func (f *Flow) apply(ctx context.Context, plan []PlanItem, parallel int) error {
	var errs []error
	for _, it := range plan {
		if it.Action != ActionScaleDown {
			continue
		}
		if err := f.Target.ScaleDown(ctx, it.Stack); err != nil {
			errs = append(errs, fmt.Errorf("scale down %s: %w", it.Stack, err))
		}
	}
	if parallel < 1 {
		parallel = 1
	}
	sem := make(chan struct{}, parallel)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, it := range plan {
		if it.Action != ActionDelete {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f.logf("cleanup: deleting %s (%s)", it.Stack, it.Reason)
			if err := f.Target.Delete(ctx, it.Stack); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("delete %s: %w", it.Stack, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// removeStaleImageTags removes the image tags of the stacks cleanup
// deleted (the commit tag <sha7> or <sha7>-dirty, a preview's pr-N or
// branch tag) that no stack left runs, when the builder can remove tags
// (the local engine; a registry's own lifecycle rules expire the rest).
// The stacks are gone already: a failure is a warning.
func (f *Flow) removeStaleImageTags(ctx context.Context, stacks []Stack, plan []PlanItem) {
	r, ok := f.Builder.(TagRemover)
	if !ok {
		return
	}
	deleted := map[string]bool{}
	for _, it := range plan {
		if it.Action == ActionDelete {
			deleted[it.Stack] = true
		}
	}
	inUse, stale := map[string]bool{}, map[string]bool{}
	for _, s := range stacks {
		tags := stackImageTags(s)
		for _, t := range tags {
			if deleted[s.Name] {
				stale[t] = true
			} else {
				inUse[t] = true
			}
		}
	}
	var remove []string
	for t := range stale {
		if !inUse[t] {
			remove = append(remove, t)
		}
	}
	sort.Strings(remove)
	for _, t := range remove {
		if err := r.RemoveTag(ctx, t); err != nil {
			f.logf("cleanup: warning: %v", err)
		}
	}
}

// stackImageTags are the tags the builder gave a stack's image.
func stackImageTags(s Stack) []string {
	var tags []string
	if t, err := naming.CommitTag(s.Commit, s.Dirty); err == nil {
		tags = append(tags, t)
	}
	if s.Role == RolePreview && (s.PR > 0 || s.Branch != "") {
		if t, err := naming.PreviewImageTag(s.PR, s.Branch); err == nil {
			tags = append(tags, t)
		}
	}
	return tags
}
