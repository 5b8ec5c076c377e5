package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/github"
)

// ghReporter tells the pull request what happened: sticky comment,
// Deployment and commit status, and the run's step summary in Actions.
type ghReporter struct {
	pub  *github.Publisher
	base github.PreviewReport
	env  func(string) string
	log  io.Writer
}

// newReporter returns a reporter for pull request previews, or nil (with a
// line saying why) when there is no pull request or no GitHub access.
func newReporter(gh github.Context, target string, log io.Writer) deploy.Reporter {
	if gh.PR <= 0 {
		return nil
	}
	pub, err := github.NewPublisherFromEnv(os.Getenv, log)
	if err != nil {
		if errors.Is(err, github.ErrNoAuth) && os.Getenv("GITHUB_ACTIONS") != "true" {
			fmt.Fprintf(log, "github: not reporting to the pull request: %v\n", err)
		} else {
			fmt.Fprintf(log, "warning: github: not reporting to the pull request: %v\n", err)
		}
		return nil
	}
	base := github.PreviewReport{
		Repo: gh.Repo, Branch: gh.Branch, SHA: gh.SHA, Target: target, LogURL: gh.RunURL,
		Ephemeral: os.Getenv("SLIPWAY_EPHEMERAL") == "true", Notes: gh.Notes,
	}
	return &ghReporter{pub: pub, base: base, env: os.Getenv, log: log}
}

// NewGitHubReporter returns a reporter that tells the pull request of base
// through pub; env is read for GITHUB_STEP_SUMMARY.
func NewGitHubReporter(pub *github.Publisher, base github.PreviewReport, env func(string) string, log io.Writer) deploy.Reporter {
	return &ghReporter{pub: pub, base: base, env: env, log: log}
}

// Report maps an orchestration event onto the pull request.
func (g *ghReporter) Report(ctx context.Context, e deploy.Event) error {
	r := g.base
	r.PR, r.URL, r.Stack, r.Status, r.Updated = e.PR, e.URL, e.Stack, e.Status, e.At
	r.ImageDigest = e.Image.Digest
	if r.SHA == "" {
		r.SHA = e.Image.Commit
	}
	if e.Tests != nil {
		r.Tests = &github.TestResult{Passed: e.Tests.Passed, Failed: e.Tests.Failed, OK: e.Tests.OK, Summary: e.Tests.Summary}
	}
	if e.Err != nil {
		r.Err = e.Err.Error()
	}
	var err error
	switch e.Status {
	case github.StatusDeploying:
		return g.pub.PreviewStarted(ctx, r)
	case github.StatusDestroyed:
		err = g.pub.PreviewDestroyed(ctx, r)
	default:
		err = g.pub.PreviewFinished(ctx, r)
	}
	if serr := github.WriteStepSummary(g.env, r); serr != nil {
		fmt.Fprintf(g.log, "warning: write step summary: %v\n", serr)
	}
	return err
}
