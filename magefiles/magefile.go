//go:build mage

// Slipway's deploy targets come from github.com/slipway/slipway/targets, as in any repository that adopts it; its test suite and benchmarks are defined here.
package main

import (
	"context"

	"github.com/magefile/mage/mg"

	"github.com/slipway/slipway/internal/commands"
	//mage:import
	_ "github.com/slipway/slipway/targets"
)

// Test runs test suites.
type Test mg.Namespace

// Bench measures performance and prints figures.
type Bench mg.Namespace

// All runs the whole test suite (alias: test): Python tools, gofmt, go vet, staticcheck, actionlint, zizmor and go test.
func (Test) All(ctx context.Context) error { return commands.TestAll(ctx) }

// Router compares the local router with direct calls and HAProxy on loopback (needs wrk and haproxy).
func (Bench) Router(ctx context.Context) error { return commands.BenchRouter(ctx) }

// Preview measures how soon a preview URL serves a new commit, with the images already built (median of 5).
func (Bench) Preview(ctx context.Context) error { return commands.BenchPreview(ctx) }

// Aliases: `go run mage.go test` runs the whole suite.
var Aliases = map[string]interface{}{
	"test": Test.All,
}
