package deploy

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// canaryRelease releases aaaaaaa all at once, then bbbbbbb by strategy s
// over it. It returns the new stack, the release's error and what the
// user saw: progress and the table of the steps.
func canaryRelease(t *testing.T, p *trafficFake, s Strategy) (stack, log, table string, err error) {
	t.Helper()
	f, _ := newFlow(p.fakeProvider, "aaaaaaa", &fakeTester{})
	f.Target = p
	if _, err := f.Release(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	var logb, tableb strings.Builder
	s.Report = &tableb
	f.Log, f.Strategy, f.Builder = &logb, s, fakeBuilder{"bbbbbbb"}
	f.Now = func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }
	res, err := f.Release(context.Background(), nil)
	return res.Stack, logb.String(), tableb.String(), err
}

// A canary step with too few requests to judge bakes on up to its bound
// and then fails, moving traffic back, unless unjudged steps are allowed;
// errors clearly over the limit fail a step early, however few its
// requests. Issue 16: with no traffic every step said "too few to judge,
// going on" and the release reached 100 %; with 10 % errors the thin 10 %
// step went on to 50 %.
func TestACanaryStepIsJudgedOrFails(t *testing.T) {
	base := Strategy{Steps: []int{10, 50, 100}, Bake: 30 * time.Millisecond, MaxBake: 120 * time.Millisecond, Poll: 10 * time.Millisecond,
		MaxErrorRate: 0.01, MaxLatencyRatio: 2, MinRequests: 50}
	for _, tc := range []struct {
		name     string
		perRead  int     // requests per reading of the counters, shared by weight
		errShare float64 // of the new stack's requests
		edit     func(*Strategy)
		wantErr  []string // in the exit error; none: the release passes
		wantIs   error
		maxShare int               // the most the new stack ever got, in percent
		verdicts map[string]string // the table's verdict per weight
	}{
		{name: "no traffic: the first step fails once its extended bake runs out", perRead: 0,
			wantErr: []string{"at 10%", "only 0 requests reached", "fewer than the 50 needed to judge it (SLIPWAY_CANARY_MIN_REQUESTS)",
				"-allowUnjudged (SLIPWAY_CANARY_ALLOW_UNJUDGED=1)"}, wantIs: ErrCanaryUnjudged, maxShare: 10,
			verdicts: map[string]string{"10%": VerdictUnjudged, "50%": VerdictNotReached, "100%": VerdictNotReached}},
		{name: "no traffic, unjudged steps allowed: every step goes on with a note", perRead: 0, edit: func(s *Strategy) { s.AllowUnjudged = true },
			maxShare: 100, verdicts: map[string]string{"10%": VerdictUnjudgedAllowed, "50%": VerdictUnjudgedAllowed, "100%": VerdictAllTraffic}},
		{name: "10% errors on a thin step: it fails early at 10%, long before its bake ends", perRead: 100, errShare: 0.10,
			edit:    func(s *Strategy) { s.Bake, s.MaxBake = 5*time.Second, 10*time.Second },
			wantErr: []string{"at 10%", "error rate 10.0% (2 of 20 requests) against 0.0% (0 of 180) on the old stacks", "with 99.95% confidence"},
			wantIs:  ErrCanaryFailed, maxShare: 10, verdicts: map[string]string{"10%": VerdictFailedEarly, "50%": VerdictNotReached}},
		{name: "too few requests at the end of the bake: the step bakes on until there are enough, then passes", perRead: 100,
			edit:     func(s *Strategy) { s.MaxBake = 10 * time.Second },
			maxShare: 100, verdicts: map[string]string{"10%": VerdictPassed, "50%": VerdictPassed, "100%": VerdictAllTraffic}},
		{name: "errors under the limit's doubt on a thin step wait for the full analysis", perRead: 100, errShare: 0.005,
			edit:     func(s *Strategy) { s.MaxBake = 10 * time.Second },
			maxShare: 100, verdicts: map[string]string{"10%": VerdictPassed, "50%": VerdictPassed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newTrafficFake(tc.perRead)
			p.errShare["bbbbbbb"] = tc.errShare
			s := base
			if tc.edit != nil {
				tc.edit(&s)
			}
			stack, log, table, err := canaryRelease(t, p, s)
			for _, want := range tc.wantErr {
				if !errors.Is(err, tc.wantIs) || !strings.Contains(err.Error(), want) {
					t.Errorf("release: %v\nwant %v saying %q", err, tc.wantIs, want)
				}
			}
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("release: %v\n%s", err, log)
			}
			if got := p.maxShare(stack); got != tc.maxShare {
				t.Errorf("the new stack got up to %d%% of production, want %d%%\n%s", got, tc.maxShare, log)
			}
			wantLive := stack
			if len(tc.wantErr) > 0 {
				wantLive = "shop-prod-20261125120000-aaaaaaa"
			}
			if live := p.routes.Live(); len(live) != 1 || live[0] != wantLive {
				t.Errorf("production ends as %+v, want all on %s", p.routes.Production, wantLive)
			}
			rows := canaryTable(t, table)
			for w, v := range tc.verdicts {
				if rows[w]["VERDICT"] != v {
					t.Errorf("the table's %s step says %q, want %q:\n%s", w, rows[w]["VERDICT"], v, table)
				}
			}
		})
	}
}

// The table a canary ends with gives each step's figures: the extended
// bake, the requests and errors the new stack had, their rate and mean
// latency next to the old stacks'.
func TestACanaryEndsWithATableOfEachStepsFigures(t *testing.T) {
	p := newTrafficFake(100)
	p.latency["bbbbbbb"] = 0.003
	s := Strategy{Steps: []int{10, 50, 100}, Bake: 30 * time.Millisecond, MaxBake: 10 * time.Second, Poll: 10 * time.Millisecond,
		MaxErrorRate: 0.01, MaxLatencyRatio: 2, MinRequests: 50}
	stack, log, table, err := canaryRelease(t, p, s)
	if err != nil {
		t.Fatalf("release: %v\n%s", err, log)
	}
	if !strings.HasPrefix(table, "canary of "+stack+":\n") {
		t.Fatalf("the table does not name the stack:\n%s", table)
	}
	rows := canaryTable(t, table)
	ten := rows["10%"]
	if n, err := strconv.Atoi(ten["REQUESTS"]); err != nil || n < 50 || !strings.HasSuffix(ten["BAKED"], "(extended)") || ten["ERRORS"] != "0" || ten["ERROR RATE"] != "0.0%" ||
		ten["LATENCY"] != "3.0 ms" || ten["OLD LATENCY"] != "2.0 ms" {
		t.Errorf("10%% step row %v, want an extended bake, at least 50 requests, no errors, 3.0 ms against 2.0 ms:\n%s", ten, table)
	}
	extended := regexp.MustCompile(`canary: 10% step: only \d+ requests reached ` + stack + ` in the 30ms bake, fewer than 50: baking on until there are, for at most 10s in all \(SLIPWAY_CANARY_MAX_BAKE\)`)
	if !extended.MatchString(log) {
		t.Errorf("the extension was not said:\n%s", log)
	}
	if hundred := rows["100%"]; hundred["BAKED"] != "-" || hundred["VERDICT"] != VerdictAllTraffic {
		t.Errorf("100%% step row %v", hundred)
	}
}

func TestTheCanaryTableIsStable(t *testing.T) {
	rows := []CanaryStep{
		{Percent: 10, Baked: 5*time.Minute + 40*time.Millisecond, Extended: true, New: TrafficSample{Requests: 61, Errors: 0, LatencySum: 61 * 0.0123},
			Old: TrafficSample{Requests: 549, Errors: 1, LatencySum: 549 * 0.0119}, Verdict: VerdictPassed},
		{Percent: 50, Baked: time.Minute, New: TrafficSample{Requests: 2051, Errors: 205, LatencySum: 2051 * 0.0121},
			Old: TrafficSample{Requests: 2049, Errors: 2, LatencySum: 2049 * 0.012}, Verdict: "failed: error rate"},
		{Percent: 100, Verdict: VerdictNotReached},
	}
	var b strings.Builder
	if err := PrintCanarySteps(&b, "shop-prod-20261126000000-bbbbbbb", rows); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "canary-steps.golden", []byte(b.String()))
}

// The early verdict fails a step only when its error rate is over the
// limit beyond doubt: the lower end of its 99.95 % Wilson interval.
func TestTheEarlyVerdictNeedsErrorsClearlyOverTheLimit(t *testing.T) {
	s := Strategy{MaxErrorRate: 0.01}
	for _, tc := range []struct {
		errs, requests uint64
		old            TrafficSample
		over           bool
	}{
		{0, 0, TrafficSample{}, false},
		{1, 10, TrafficSample{}, false}, // one unlucky request
		{2, 20, TrafficSample{}, true},
		{3, 33, TrafficSample{}, true}, // issue 16's 10 % step: 33 requests at 10 % errors
		{1, 33, TrafficSample{}, false},
		{2, 100, TrafficSample{}, false},
		{10, 100, TrafficSample{Requests: 900, Errors: 90}, false}, // the old stacks fail as much
		{30, 100, TrafficSample{Requests: 900, Errors: 9}, true},
	} {
		t.Run(fmt.Sprintf("%d of %d", tc.errs, tc.requests), func(t *testing.T) {
			why := s.clearlyOver(TrafficSample{Requests: tc.requests, Errors: tc.errs}, tc.old)
			if (why != "") != tc.over {
				t.Fatalf("clearly over: %q, want %v", why, tc.over)
			}
		})
	}
}
