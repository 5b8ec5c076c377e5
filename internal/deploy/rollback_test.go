package deploy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// history plays a script of releases and rollbacks an hour apart on the
// fake, as a user would run them, each release stack created (as the
// cloud's creation tag says) at its release time. After each step it
// returns what production is, by commit letter ("b"), or the step's error.
type history struct {
	t    *testing.T
	p    *fakeProvider
	f    *Flow
	name map[string]string // commit letter -> its latest stack
	at   time.Time
	log  strings.Builder
}

func newHistory(t *testing.T) *history {
	p := newFake()
	f, _ := newFlow(p, "aaaaaaa", &fakeTester{})
	h := &history{t: t, p: p, f: f, name: map[string]string{"pr": "shop-pr-7"}, at: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	f.Log = &h.log
	return h
}

// run does one step: "release b", "fail c" (a release whose tests fail),
// "preview", "traffic b=90,c=10", "rollback" or "rollback -to=b" (-to=pr:
// the preview; -to=x: a stack that does not exist).
func (h *history) run(step string) (string, error) {
	h.at = h.at.Add(time.Hour)
	at := h.at
	h.f.Now = func() time.Time { return at }
	ctx := context.Background()
	verb, arg, _ := strings.Cut(step, " ")
	lastLive := map[string]time.Time{}
	for n, s := range h.p.stacks {
		lastLive[n] = s.LastLive
	}
	defer func() { // the fake records when a stack lost traffic by its own clock: at the step's time, as a router would
		for n, s := range h.p.stacks {
			if !s.LastLive.Equal(lastLive[n]) {
				s.LastLive = at
				h.p.stacks[n] = s
			}
		}
	}()
	var err error
	switch verb {
	case "release", "fail":
		commit := strings.Repeat(arg, 7)
		h.f.Builder, h.f.Tester = fakeBuilder{commit}, &fakeTester{fail: map[string]bool{commit: verb == "fail"}}
		var res ReleaseResult
		res, err = h.f.Release(ctx, nil)
		if s, ok := h.p.stacks[res.Stack]; ok {
			s.Created = at
			h.p.stacks[res.Stack] = s
			h.name[arg] = res.Stack
		}
	case "traffic":
		var ws []Weight
		for _, part := range strings.Split(arg, ",") {
			letter, weight, _ := strings.Cut(part, "=")
			ws = append(ws, Weight{Stack: h.name[letter], Weight: atoi(h.t, weight)})
		}
		err = h.f.SetTraffic(ctx, ws)
	case "preview":
		_, err = h.f.DeployPreview(ctx, PreviewRequest{PR: 7})
	case "rollback":
		to := strings.TrimPrefix(arg, "-to=")
		if n, ok := h.name[to]; ok {
			to = n
		}
		_, err = h.f.RollbackTo(ctx, to)
	default:
		h.t.Fatalf("unknown step %q", step)
	}
	return h.production(), err
}

// production is the one stack with all production traffic, by commit
// letter, or the split ("a=90 b=10").
func (h *history) production() string {
	if pr := h.p.routes.Production; len(pr) == 1 && pr[0].Weight == 100 {
		return h.p.stacks[pr[0].Stack].Commit[:1]
	}
	var parts []string
	for _, w := range h.p.routes.Production {
		parts = append(parts, fmt.Sprintf("%s=%d", h.p.stacks[w.Stack].Commit[:1], w.Weight))
	}
	return strings.Join(parts, " ")
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Rollback walks back in release order, as production went: a second
// rollback goes to the release before, never back to the stack just
// rolled back from (issue 16: it toggled between the two), and -to picks
// any release that took traffic and did not fail.
func TestRollbackWalksBackInReleaseOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []string
		want  []string // production after each step; "error: ..." the step's error contains it
	}{
		{"two rollbacks walk back two releases, a third has nothing left",
			[]string{"release a", "release b", "release c", "rollback", "rollback", "rollback"},
			[]string{"a", "b", "c", "b", "a", "error: nothing to roll back to: no release before shop-prod-20261125130000-aaaaaaa is kept in good standing (live: shop-prod-20261125130000-aaaaaaa); releases rolled back from are kept: choose one with `go run mage.go rollback -to=STACK` (shop-prod-20261125150000-ccccccc, shop-prod-20261125140000-bbbbbbb), or release an older commit"}},
		{"a release after rollbacks rolls back to where production was before it, past the releases rolled back from",
			[]string{"release a", "release b", "release c", "rollback", "rollback", "release d", "rollback"},
			[]string{"a", "b", "c", "b", "a", "d", "a"}},
		{"rolled forward with -to, a plain rollback goes to the release before it",
			[]string{"release a", "release b", "release c", "rollback", "rollback -to=c", "rollback"},
			[]string{"a", "b", "c", "b", "c", "b"}},
		{"-to jumps back two releases, and the next release's rollback returns there",
			[]string{"release a", "release b", "release c", "rollback -to=a", "release d", "rollback"},
			[]string{"a", "b", "c", "a", "d", "a"}},
		{"a failed release is skipped by rollback and refused by -to",
			[]string{"release a", "release b", "fail c", "rollback -to=c", "rollback"},
			[]string{"a", "b", "error: release shop-prod-20261125150000-ccccccc (production traffic unchanged)",
				"error: -to=shop-prod-20261125150000-ccccccc: not a rollback target: it failed its release (tests or canary): a failed stack never takes production back", "a"}},
		{"from a manual split, rollback moves all traffic to the older stack of the split",
			[]string{"release a", "release b", "release c", "traffic b=90,c=10", "rollback", "rollback"},
			[]string{"a", "b", "c", "b=90 c=10", "b", "a"}},
		{"-to the live stack changes nothing",
			[]string{"release a", "release b", "rollback -to=b"},
			[]string{"a", "b", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHistory(t)
			for i, step := range tc.steps {
				got, err := h.run(step)
				want, wantErr := tc.want[i], ""
				if e, ok := strings.CutPrefix(want, "error: "); ok {
					want, wantErr = "", e
				}
				switch {
				case wantErr == "" && err != nil:
					t.Fatalf("step %d %q: %v\n%s", i+1, step, err, h.log.String())
				case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
					t.Fatalf("step %d %q: error %v\nwant one saying %q", i+1, step, err, wantErr)
				case want != "" && got != want:
					t.Fatalf("step %d %q: production is %s, want all on %s\n%s", i+1, step, got, want, h.log.String())
				}
			}
		})
	}
}

// rollback -to refuses what cannot take production back, saying why and
// listing the stacks that can, newest release first; production stays.
func TestRollbackToRefusesWhatCannotTakeProductionBackListingTheCandidates(t *testing.T) {
	candidates := "; the candidates, newest release first: shop-prod-20261125140000-bbbbbbb (commit bbbbbbb, released 2026-11-25T14:00:00Z, live now), " +
		"shop-prod-20261125130000-aaaaaaa (commit aaaaaaa, released 2026-11-25T13:00:00Z, last live 2026-11-25T14:00:00Z)"
	for _, tc := range []struct {
		to, want string
	}{
		{"pr", "rollback: -to=shop-pr-7: not a rollback target: it is a preview, not a production release" + candidates},
		{"x", "rollback: -to=x: not a rollback target: there is no such stack" + candidates},
	} {
		t.Run(tc.to, func(t *testing.T) {
			h := newHistory(t)
			for _, step := range []string{"release a", "release b", "preview"} {
				if _, err := h.run(step); err != nil {
					t.Fatal(err)
				}
			}
			got, err := h.run("rollback -to=" + tc.to)
			if !errors.Is(err, ErrNotRollbackTarget) || err.Error() != tc.want {
				t.Fatalf("rollback -to=%s: %v\nwant %s", tc.to, err, tc.want)
			}
			if got != "b" {
				t.Fatalf("production is %s after a refused rollback, want b", got)
			}
		})
	}
}
