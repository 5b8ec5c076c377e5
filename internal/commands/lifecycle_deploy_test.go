package commands

import (
	"testing"

	"github.com/slipway/slipway/internal/github"
)

func TestDeploySaysWhatItDoesAndWhy(t *testing.T) {
	for _, tc := range []struct {
		name string
		gh   github.Context
		want github.Kind
	}{
		{"laptop on the default branch releases", github.Context{Source: github.SourceCheckout, Branch: "main"}, github.Release},
		{"laptop on a branch with a PR deploys its preview", github.Context{Source: github.SourceCheckout, Branch: "feat", PR: 4, State: "open"}, github.DeployPreview},
		{"laptop on a branch without a PR deploys a branch preview", github.Context{Source: github.SourceCheckout, Branch: "feat"}, github.DeployPreview},
		{"laptop on a branch whose PR is closed destroys", github.Context{Source: github.SourceCheckout, Branch: "feat", PR: 4, State: "closed"}, github.DestroyPreview},
		{"detached HEAD does nothing", github.Context{Source: github.SourceCheckout}, github.Ignore},
		{"push to the default branch releases", github.Context{Source: github.SourceEvent, Event: "push", Branch: "main", DefaultBranch: "main", Ref: "refs/heads/main"}, github.Release},
		{"pull request opened deploys", github.Context{Source: github.SourceEvent, Event: "pull_request", EventAction: "opened", PR: 9}, github.DeployPreview},
		{"pull request closed destroys", github.Context{Source: github.SourceEvent, Event: "pull_request", EventAction: "closed", PR: 9}, github.DestroyPreview},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, why := decideDeploy(tc.gh, "main")
			if kind != tc.want || why == "" {
				t.Fatalf("decided %s (%q), want %s with a reason", kind, why, tc.want)
			}
		})
	}
}
