package deploy

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipway/slipway/internal/naming"
)

// PreviewRequest names a preview: by pull request, or by branch when the
// branch has no pull request yet.
type PreviewRequest struct {
	PR     int
	Branch string            // used only when PR is 0
	Env    map[string]string // APP_MESSAGE, APP_COLOR, ...
}

// PreviewResult is what a deployed preview looks like.
type PreviewResult struct {
	Stack, Host, URL string
	StackURL         string // the stack's own URL (Stack.URL), "" when the target gives none
	Image            Image
	Tests            TestResult
	Database         *PreviewDB   // nil: no database
	Compat           *CompatCheck // the schema-compat check; nil: no database
	Timing           *Timing      // where the time went
}

// ErrTestsFailed is returned when a preview deployed but its integration
// tests failed: the preview stays up so it can be looked at.
var ErrTestsFailed = errors.New("integration tests failed")

func (f *Flow) previewNames(req PreviewRequest) (stack, host string, err error) {
	if req.PR > 0 {
		if stack, err = naming.Preview(f.App, req.PR); err != nil {
			return "", "", err
		}
		label, err := naming.PreviewHost(req.PR)
		return stack, f.Routing.PreviewHost(label), err
	}
	stack, label, err := naming.BranchPreview(f.App, req.Branch)
	if err != nil {
		return "", "", fmt.Errorf("name preview: %w", err)
	}
	return stack, f.Routing.PreviewHost(label), nil
}

// DeployPreview builds the image, deploys the preview stack, waits until it
// is healthy, routes its host to it, runs the integration tests against its
// URL and reports. Re-running it with the same commit changes nothing; a new
// commit replaces the stack with no moment where the URL fails.
func (f *Flow) DeployPreview(ctx context.Context, req PreviewRequest) (PreviewResult, error) {
	stack, host, err := f.previewNames(req)
	if err != nil {
		return PreviewResult{}, err
	}
	res := PreviewResult{Stack: stack, Host: host, URL: f.Routing.URL(host)}
	started := make(chan struct{}) // the "deploying" report runs beside the deploy
	deploying := Event{PR: req.PR, Stack: stack, URL: res.URL, Status: StatusDeploying}
	checks := f.Database && req.PR > 0 // a PR with a database gets slipway/schema-compat
	if checks {
		deploying.Compat = &CompatCheck{Status: CompatPending}
	}
	go func() {
		defer close(started)
		f.report(ctx, deploying)
	}()
	tctx, tm := f.startTimer(ctx)
	res, err = f.deployPreview(tctx, tm, req, res)
	res.Timing = tm.done("preview", stack)
	<-started
	if checks && res.Compat == nil { // the pending status must not stay pending
		res.Compat = &CompatCheck{Status: CompatError, Reason: compatNotMigratedWhy}
	}
	ev := Event{PR: req.PR, Stack: stack, URL: res.URL, StackURL: res.StackURL, Image: res.Image, Status: StatusDeployed, Database: res.Database, Compat: res.Compat, Timing: res.Timing}
	if res.Tests.Summary != "" {
		tests := res.Tests
		ev.Tests = &tests
	}
	if err != nil {
		ev.Status, ev.Err = StatusFailed, err
	}
	f.report(ctx, ev)
	if err == nil && res.Compat != nil {
		err = res.Compat.err(res.Stack)
	}
	return res, err
}

func (f *Flow) deployPreview(ctx context.Context, tm *timer, req PreviewRequest, in PreviewResult) (res PreviewResult, err error) {
	res = in
	purpose, err := naming.PreviewImageTag(req.PR, req.Branch)
	if err != nil {
		return res, err
	}
	img, err := f.build(ctx, tm, purpose)
	if err != nil {
		return res, err
	}
	res.Image = img
	if err := f.Target.EnsureShared(ctx); err != nil {
		return res, fmt.Errorf("ensure shared stack: %w", err)
	}
	var env map[string]string
	var pdb *PreviewDB
	err = tm.phaseIf(f.Database && req.PR > 0, PhaseDatabase, func() (err error) {
		env, pdb, err = f.previewDatabase(ctx, req.PR, img, f.appEnv(false, req.Env))
		return err
	})
	if err != nil {
		return res, err
	}
	res.Database = pdb
	// Whatever happens to the preview's own stack, the migrated database
	// is checked against the live release; its outcome is reported apart.
	defer func() { res.Compat = f.schemaCompat(ctx, req.PR, res.Host, pdb, env) }()
	spec := f.forApp(Spec{Stack: res.Stack, Role: RolePreview, Image: img.Ref, Digest: img.Digest, Commit: img.Commit, Version: img.Version, PR: req.PR, Env: env, Branch: req.Branch, Host: res.Host, Dirty: img.IsDirty(),
		Platform: img.Platform})
	var st Stack
	if err := tm.phase(PhaseStack, func() (err error) { st, err = f.Target.Deploy(ctx, spec); return err }); err != nil {
		return res, err
	}
	res.URL = f.Routing.URL(res.Host) // aws without a domain knows the port only now
	if res.StackURL = st.URL; res.StackURL != "" {
		f.logf("%s: its own URL is %s (any client, no DNS or Host header)", res.Stack, res.StackURL)
	}
	routes, err := f.Target.Routes(ctx)
	if err != nil {
		return res, err
	}
	if routes.Hosts[res.Host] != res.Stack {
		if err := tm.phase(PhaseShift, func() error { return f.Target.SetHost(ctx, res.Host, res.Stack) }); err != nil {
			return res, err
		}
		f.logf("%s: %s now routes to it", res.Stack, res.Host)
	}
	tt := f.testTarget(res.Stack, res.StackURL, res.Host, false)
	tt.Commit, tt.Database = img.Commit, res.Database != nil
	if err := tm.phase(PhaseTests, func() (err error) { res.Tests, err = f.Tester.Test(ctx, tt); return err }); err != nil {
		return res, fmt.Errorf("run integration tests against %s: %w", tt.BaseURL, err)
	}
	f.logf("%s", res.Tests.Summary)
	if !res.Tests.OK {
		return res, fmt.Errorf("preview %s at %s: %w (%s)", res.Stack, res.URL, ErrTestsFailed, res.Tests.Summary)
	}
	return res, nil
}

// DestroyPreview removes the preview's host rule, drains and deletes its
// stack, and reports. Destroying a preview that is gone changes nothing.
func (f *Flow) DestroyPreview(ctx context.Context, req PreviewRequest) error {
	stack, host, err := f.previewNames(req)
	if err != nil {
		return err
	}
	routes, err := f.Target.Routes(ctx)
	if err != nil {
		return err
	}
	var hosts []string
	if _, ok := routes.Hosts[host]; ok {
		hosts = []string{host}
	}
	if err := f.retirePreview(ctx, stack, hosts, req.PR, req.Branch); err != nil {
		return err
	}
	f.report(ctx, Event{PR: req.PR, Stack: stack, URL: f.Routing.URL(host), Status: StatusDestroyed})
	return nil
}
