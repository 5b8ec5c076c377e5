package itest

import (
	"context"
	"fmt"
	"io"

	"github.com/slipway/slipway/internal/deploy"
)

// Tester runs an app's integration tests for the orchestration
// (deploy.Tester, and deploy.CommitTester in commit.go).
type Tester struct {
	// Suite is the app's tests (SuiteFor). A zero Suite (no Dir) is the
	// sample app's, from ModuleDir.
	Suite     Suite
	ModuleDir string    // the Slipway checkout, for a zero Suite
	Log       io.Writer // progress: one line per finished test, or per line the command prints
}

// suite is the tests this Tester runs.
func (x Tester) suite() Suite {
	if x.Suite.Dir == "" && x.Suite.Command == nil {
		return SampleSuite(x.ModuleDir)
	}
	return x.Suite
}

// Test runs the integration tests against t. An app whose slipway.yaml has
// no test.command passes, and the summary says it was not tested.
func (x Tester) Test(ctx context.Context, t deploy.TestTarget) (deploy.TestResult, error) {
	return x.test(ctx, x.suite(), t)
}

func (x Tester) test(ctx context.Context, s Suite, t deploy.TestTarget) (deploy.TestResult, error) {
	if len(s.Command) == 0 {
		summary := fmt.Sprintf("integration: no tests: slipway.yaml has no test.command, so %s was not tested (add one to test every stack before it gets traffic)", t.BaseURL)
		if x.Log != nil {
			fmt.Fprintln(x.Log, summary)
		}
		return deploy.TestResult{OK: true, Summary: summary}, nil
	}
	res, err := s.Run(ctx, Target{
		BaseURL: t.BaseURL, Host: t.Host, ExpectCommit: t.Commit, ExpectStack: t.Stack, StackHeader: t.StackHeader,
		ExpectDatabase: t.Database, Production: t.Production,
	}, x.Log)
	if err != nil {
		return deploy.TestResult{}, err
	}
	return deploy.TestResult{Passed: res.Passed, Failed: res.Failed, OK: res.OK(), Summary: res.Summary(), Failures: res.Failures}, nil
}
