package commands

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

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

// newReporter returns a reporter for pull request previews, or nil when
// there is no pull request. Without GitHub access it says why in one line
// (outside Actions, unless quiet: the run already said so); in Actions it
// still writes the step summary.
func newReporter(gh github.Context, target string, notes []string, quiet bool, log io.Writer) deploy.Reporter {
	if gh.PR <= 0 {
		return nil
	}
	base := github.PreviewReport{
		Repo: gh.Repo, Branch: gh.Branch, SHA: gh.SHA, Target: target, LogURL: gh.RunURL,
		Ephemeral: os.Getenv("SLIPWAY_EPHEMERAL") == "true", Notes: append(append([]string(nil), gh.Notes...), notes...),
	}
	actions := os.Getenv("GITHUB_ACTIONS") == "true"
	pub, err := github.NewPublisherFromEnv(os.Getenv, log)
	if err != nil {
		if !actions {
			if !quiet {
				fmt.Fprintf(log, "github: nothing is reported to pull request #%d: %v\n", gh.PR, err)
			}
			return nil
		}
		fmt.Fprintf(log, "warning: github: not reporting to the pull request: %v\n", err)
		pub = nil // the step summary is still written
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
	r.PR, r.URL, r.Stack, r.Status, r.Updated = e.PR, e.URL, e.Stack, string(e.Status), e.At
	if e.StackURL != "" && e.StackURL != e.URL && e.Status != deploy.StatusDestroyed {
		// The stack's own URL is the one any client reaches (no DNS, no
		// Host header); browsers also take the host name.
		r.URL = e.StackURL
		r.Notes = append(append([]string(nil), r.Notes...), "In a browser the preview also answers by host name: "+strings.TrimPrefix(e.URL, "http://"))
	}
	r.ImageDigest, r.Timing = e.Image.Digest, e.Timing
	if r.SHA == "" {
		r.SHA = e.Image.Commit
	}
	if e.Tests != nil {
		r.Tests = &github.TestResult{Passed: e.Tests.Passed, Failed: e.Tests.Failed, OK: e.Tests.OK, Summary: e.Tests.Summary}
	}
	if e.Err != nil {
		r.Err = e.Err.Error()
	}
	if d := e.Database; d != nil {
		r.Database = &github.DatabaseReport{Release: d.Released, Cloned: d.Cloned, Head: d.Head}
	}
	if c := e.Compat; c != nil {
		r.Compat = &github.CompatReport{Status: string(c.Status), Release: c.Release, Schema: c.Schema, Failing: c.Failing(), Reason: c.Reason}
		if c.Tests != nil {
			r.Compat.Passed, r.Compat.Failed = c.Tests.Passed, c.Tests.Failed
		}
	}
	var err error
	switch {
	case g.pub == nil: // no GitHub access: only the step summary
	case e.Status == deploy.StatusDeploying:
		return g.pub.PreviewStarted(ctx, r)
	case e.Status == deploy.StatusDestroyed:
		err = g.pub.PreviewDestroyed(ctx, r)
	default:
		err = g.pub.PreviewFinished(ctx, r)
	}
	if e.Status == deploy.StatusDeploying {
		return nil
	}
	if serr := github.WriteStepSummary(g.env, r); serr != nil {
		fmt.Fprintf(g.log, "warning: write step summary: %v\n", serr)
	}
	return err
}
