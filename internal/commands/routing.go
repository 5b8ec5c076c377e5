package commands

import (
	"context"
	"fmt"
	"io"

	"github.com/slipway/slipway/internal/config"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/itest"
)

// Routing says where the local target's hosts answer: the router on
// 127.0.0.1, routed by Host header.
type Routing struct{ Cfg config.Config }

// PreviewHost is pr-N.<app>.<domain>.
func (r Routing) PreviewHost(label string) string { return r.Cfg.PreviewHost(label) }

// ProductionHost is <app>.<domain>.
func (r Routing) ProductionHost() string { return r.Cfg.ProductionHost() }

// URL is what a person opens.
func (r Routing) URL(host string) string { return r.Cfg.URL(host) }

// Dial connects to the router on loopback and names the host in the header,
// so tests work where *.localhost does not resolve.
func (r Routing) Dial(host string) (string, string) {
	return fmt.Sprintf("http://127.0.0.1:%d", r.Cfg.RouterPort), host
}

// Tester runs the sample app's integration tests with `go test`.
type Tester struct {
	ModuleDir string
	Log       io.Writer
}

// Test runs the integration tests against t.
func (x *Tester) Test(ctx context.Context, t deploy.TestTarget) (deploy.TestResult, error) {
	res, err := itest.Run(ctx, x.ModuleDir, itest.Target{
		BaseURL: t.BaseURL, Host: t.Host, ExpectCommit: t.Commit, ExpectStack: t.Stack, StackHeader: t.StackHeader,
	}, x.Log)
	if err != nil {
		return deploy.TestResult{}, err
	}
	return deploy.TestResult{Passed: res.Passed, Failed: res.Failed, OK: res.OK(), Summary: res.Summary()}, nil
}
