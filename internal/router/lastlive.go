package router

import "time"

// stackOf is the stack a target belongs to: its Stack, else its name.
func stackOf(t Target) string {
	if t.Stack != "" {
		return t.Stack
	}
	return t.Name
}

// liveStacks are the stacks with a positive production weight in t.
func liveStacks(t Table) map[string]bool {
	byName := make(map[string]string, len(t.Targets))
	for _, tg := range t.Targets {
		byName[tg.Name] = stackOf(tg)
	}
	live := map[string]bool{}
	for _, w := range t.Production {
		if w.Weight > 0 {
			live[byName[w.Target]] = true
		}
	}
	return live
}

// lastLive is the last_live map of next, written at now over prev: a stack
// live in prev or in next was live at now; other stacks keep their time
// from prev while next still has a target of theirs or names them in its
// LastLive (a stack scaled to zero has no target, and its writer keeps its
// record by sending the key back); the other records are dropped. The
// times a writer puts in next.LastLive are ignored: the router keeps them,
// and a writer can only keep or drop a record, never make or move one.
func lastLive(prev, next Table, now time.Time) map[string]time.Time {
	now = now.UTC().Truncate(time.Millisecond)
	has := map[string]bool{}
	for _, tg := range next.Targets {
		has[stackOf(tg)] = true
	}
	for stack := range next.LastLive {
		has[stack] = true
	}
	out := map[string]time.Time{}
	for stack, at := range prev.LastLive {
		if has[stack] {
			out[stack] = at
		}
	}
	for _, t := range []Table{prev, next} {
		for stack := range liveStacks(t) {
			if has[stack] {
				out[stack] = now
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
