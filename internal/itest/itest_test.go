package itest

import (
	"testing"
	"time"
)

func TestResultSummaryAndOK(t *testing.T) {
	target := Target{BaseURL: "http://127.0.0.1:8080"}
	const junit = "reports/junit.xml"
	tests := map[string]struct {
		res         Result
		wantSummary string
		wantOK      bool
	}{
		"all tests passed": {
			res:         Result{Target: target, CountsFrom: goStream, Passed: 3, Duration: 1234 * time.Millisecond},
			wantSummary: "integration: 3 passed, 0 failed (1.2s) against http://127.0.0.1:8080",
			wantOK:      true,
		},
		"a failed test fails the run and skips are counted": {
			res:         Result{Target: target, CountsFrom: junit, Passed: 1, Failed: 1, Skipped: 1, Failures: []string{"TestX: boom"}, Exit: 1},
			wantSummary: "integration: 1 passed, 1 failed, 1 skipped (0s) against http://127.0.0.1:8080",
		},
		"the Host and stack headers are named": {
			res: Result{Target: Target{BaseURL: "http://127.0.0.1:8080", Host: "pr-42.app.localhost", StackHeader: "pr-42-green"},
				CountsFrom: goStream, Passed: 3},
			wantSummary: "integration: 3 passed, 0 failed (0s) against http://127.0.0.1:8080 (Host pr-42.app.localhost, X-Slipway-Stack pr-42-green)",
			wantOK:      true,
		},
		"a failure outside any test is quoted": {
			res:         Result{Target: target, CountsFrom: goStream, Failures: []string{"package p: TestMain exited"}, Exit: 1},
			wantSummary: "integration: 0 passed, 0 failed (0s) against http://127.0.0.1:8080; package p: TestMain exited",
		},
		"a run where nothing passed is not OK": {
			res:         Result{Target: target, CountsFrom: goStream, Skipped: 3},
			wantSummary: "integration: 0 passed, 0 failed, 3 skipped (0s) against http://127.0.0.1:8080; no test passed",
		},
		"a report with failures fails a command that exited 0": {
			res:         Result{Target: target, CountsFrom: junit, Passed: 2, Failed: 1, Failures: []string{"t: boom"}},
			wantSummary: "integration: 2 passed, 1 failed (0s) against http://127.0.0.1:8080",
		},
		"without counts exit 0 passes": {
			res:         Result{Target: target, Duration: 2 * time.Second},
			wantSummary: "integration: passed (exit 0) in 2s against http://127.0.0.1:8080",
			wantOK:      true,
		},
		"without counts another exit code fails": {
			res:         Result{Target: target, Exit: 1, Duration: 300 * time.Millisecond},
			wantSummary: "integration: failed (exit 1) in 300ms against http://127.0.0.1:8080",
		},
		"without counts a missing report is named": {
			res:         Result{Target: target, Exit: 2, Failures: []string{"no JUnit report at reports/junit.xml: the test command exited 2 without writing one"}},
			wantSummary: "integration: failed (exit 2) in 0s against http://127.0.0.1:8080; no JUnit report at reports/junit.xml: the test command exited 2 without writing one",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.res.Summary(); got != tc.wantSummary {
				t.Errorf("Summary() = %q\nwant        %q", got, tc.wantSummary)
			}
			if got := tc.res.OK(); got != tc.wantOK {
				t.Errorf("OK() = %v, want %v", got, tc.wantOK)
			}
		})
	}
}
