// Package targets is every Slipway target a repository runs with mage:
// previews, releases, rollback, traffic, cleanup, the shared stack, the
// local target and the demo. A repository gets them all with one import
// in its magefile:
//
//	//go:build mage
//
//	package main
//
//	import (
//		//mage:import
//		_ "github.com/slipway/slipway/targets"
//	)
//
// Each target is a few lines: the logic lives in Slipway's internal
// packages and is covered by `go test`. Progress goes to stderr, results
// to stdout.
package targets

import (
	"context"

	"github.com/magefile/mage/mg"

	"github.com/slipway/slipway/internal/commands"
)

// Preview deploys and destroys pull request environments.
type Preview mg.Namespace

// Shared manages the aws target's permanent shared stack.
type Shared mg.Namespace

// Deploy creates or updates the aws shared stack (ECR, network, cluster, ALB) and prints the ALB and the URL scheme; -diff prints what it would change and stops.
func (Shared) Deploy(ctx context.Context, diff *bool) error {
	return commands.SharedDeployFlags(ctx, diff)
}

// Destroy deletes the aws shared stack; it refuses while any deploy stack exists and names them, and says what it keeps.
func (Shared) Destroy(ctx context.Context) error { return commands.SharedDestroy(ctx) }

// Destroy removes the app from the aws target (production rule, every stack, its secrets, the shared stack) once -app names it, and says what it keeps.
func Destroy(ctx context.Context, app *string) error { return commands.Destroy(ctx, app) }

// Local manages the local target (Docker on this machine).
type Local mg.Namespace

// Test runs test suites.
type Test mg.Namespace

// Integration runs the app's tests (test.command in slipway.yaml; the sample app's without one) against a URL (-host, -commit, -stack optional).
func (Test) Integration(ctx context.Context, url string, host, commit, stack *string) error {
	return commands.TestIntegration(ctx, url, host, commit, stack)
}

// Traffic shows and sets the production split.
type Traffic mg.Namespace

// Config prints the effective settings, with secrets redacted.
func Config() error { return commands.PrintConfig() }

// Build builds the app and router images for the current commit without pulling anything.
func Build(ctx context.Context) error { return commands.Build(ctx) }

// Push builds the app image and pushes it to SLIPWAY_REGISTRY (aws target: the shared stack's ECR repository without it), printing its digest reference.
func Push(ctx context.Context) error { return commands.Push(ctx) }

// Status prints every stack with its role, PR or branch, commit, age, last time live, weight, health and URL.
func Status(ctx context.Context) error { return commands.Status(ctx) }

// Release deploys a new production stack from a clean default branch, tests it before it gets traffic, then moves traffic to it; -allowUnjudged lets a canary step with too few requests to judge go on; -diff (aws) prints the new stack's plan and stops.
func Release(ctx context.Context, allowDirty, allowBranch, allowUnjudged, diff *bool) error {
	return commands.ReleaseFlags(ctx, allowDirty, allowBranch, allowUnjudged, diff)
}

// Deploy does what the checkout or the Actions event calls for (preview, release or destroy) and says which and why.
func Deploy(ctx context.Context) error { return commands.Deploy(ctx) }

// Rollback moves all production traffic back one release in one step; run again, one further; -to=STACK picks the release.
func Rollback(ctx context.Context, to *string) error { return commands.Rollback(ctx, to) }

// Cleanup deletes stale previews and old or failed releases and scales idle ones to zero (-dryRun prints the plan).
func Cleanup(ctx context.Context, dryRun *bool) error { return commands.Cleanup(ctx, dryRun) }

// Show prints the production traffic split.
func (Traffic) Show(ctx context.Context) error { return commands.TrafficShow(ctx) }

// Set replaces the production split in one atomic change: traffic:set "app-prod-a=90 app-prod-b=10".
func (Traffic) Set(ctx context.Context, split string) error { return commands.TrafficSet(ctx, split) }

// Demo brings up production and two pull request previews on the local Docker engine and prints their URLs.
func Demo(ctx context.Context) error { return commands.Demo(ctx) }

// Deploy deploys the preview of a pull request (-pr=N, or this branch), tests it and prints its URL; -diff (aws) prints what it would change and stops.
func (Preview) Deploy(ctx context.Context, pr *string, diff *bool) error {
	return commands.PreviewDeployFlags(ctx, pr, diff)
}

// Destroy removes the preview of a pull request (-pr=N, or this branch, or -stack=NAME).
func (Preview) Destroy(ctx context.Context, pr, stack *string) error {
	return commands.PreviewDestroyTarget(ctx, pr, stack)
}

// Database creates a pull request's database and its secret (-pr=N; -drop drops them) on the aws target, with the release role: the preview-database workflow runs it.
func (Preview) Database(ctx context.Context, pr *string, drop *bool) error {
	return commands.PreviewDatabase(ctx, pr, drop)
}

// Down removes this app's containers, networks and image tags from the local Docker engine (its database's data only with -deleteData; the shared router image stays).
func (Local) Down(ctx context.Context, deleteData *bool) error {
	return commands.LocalDown(ctx, deleteData)
}

// DbImage builds the database server's image from Debian's PostgreSQL package, for machines that cannot pull the official one (-tag=NAME, default slipway-postgres:17; run it with SLIPWAY_DB_IMAGE=NAME).
func (Local) DbImage(ctx context.Context, tag *string) error { return commands.LocalDBImage(ctx, tag) }
