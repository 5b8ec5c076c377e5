package itest

import (
	"context"
	"io"

	"github.com/slipway/slipway/internal/deploy"
)

// Tester runs the integration tests for the orchestration (deploy.Tester).
type Tester struct {
	ModuleDir string
	Log       io.Writer // one line per finished test
}

// Test runs the integration tests against t.
func (x Tester) Test(ctx context.Context, t deploy.TestTarget) (deploy.TestResult, error) {
	res, err := Run(ctx, x.ModuleDir, Target{
		BaseURL: t.BaseURL, Host: t.Host, ExpectCommit: t.Commit, ExpectStack: t.Stack, StackHeader: t.StackHeader,
		ExpectDatabase: t.Database, Production: t.Production,
	}, x.Log)
	if err != nil {
		return deploy.TestResult{}, err
	}
	return deploy.TestResult{Passed: res.Passed, Failed: res.Failed, OK: res.OK(), Summary: res.Summary(), Failures: res.Failures}, nil
}
