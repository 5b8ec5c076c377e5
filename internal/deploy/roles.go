package deploy

import (
	"sort"
	"time"
)

// Roles a stack plays in the lifecycle, as status shows them.
const (
	RoleLive     = "live"
	RolePrevious = "previous"
	RoleFailed   = "failed"
	RoleNew      = "new" // a production stack that never took traffic yet
)

// lifecycleRole says what a stack is to the lifecycle right now.
func lifecycleRole(s Stack, weight map[string]int) string {
	switch {
	case s.Role == RolePreview:
		return RolePreview
	case s.Role == RoleCheck:
		return RoleCheck
	case s.State == StateFailed:
		return RoleFailed
	case weight[s.Name] > 0:
		return RoleLive
	case s.LastLive.IsZero():
		return RoleNew
	}
	return RolePrevious
}

func weights(r Routes) map[string]int {
	m := map[string]int{}
	for _, w := range r.Production {
		m[w.Stack] += w.Weight
	}
	return m
}

// lastLive is when the stack last had traffic; live stacks have it now.
func lastLive(s Stack, weight map[string]int, now time.Time) time.Time {
	if weight[s.Name] > 0 {
		return now
	}
	return s.LastLive
}

// previousStacks are the production stacks that may take traffic back, the
// most recently live first: not live, not failed, live at some point.
func previousStacks(stacks []Stack, r Routes) []Stack {
	w := weights(r)
	var out []Stack
	for _, s := range stacks {
		if lifecycleRole(s, w) == RolePrevious {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].LastLive.Equal(out[j].LastLive) {
			return out[i].LastLive.After(out[j].LastLive)
		}
		return out[i].Created.After(out[j].Created)
	})
	return out
}

// RollbackTarget is the stack a plain rollback would choose, if any: the
// same choice Rollback makes (previousRelease), so cleanup keeps it.
func RollbackTarget(stacks []Stack, r Routes) (Stack, bool) {
	s, err := previousRelease(stacks, r)
	return s, err == nil
}
