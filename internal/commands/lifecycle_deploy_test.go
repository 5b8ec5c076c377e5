package commands

import (
	"context"
	"path/filepath"
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

// deploy on the real GitHub payloads (copies in internal/github/testdata).
func TestDeployFollowsRealGitHubEvents(t *testing.T) {
	for _, tc := range []struct {
		event, file string
		want        github.Kind
	}{
		{"pull_request", "pull_request.opened.json", github.DeployPreview},
		{"pull_request", "pull_request.synchronize.json", github.DeployPreview},
		{"pull_request", "pull_request.closed.merged.json", github.DestroyPreview},
		{"pull_request", "pull_request.closed.unmerged.json", github.DestroyPreview},
		{"push", "push.default-branch.json", github.Release},
		{"push", "push.tag-deleted.json", github.Ignore},
		{"schedule", "schedule.json", github.Cleanup},
	} {
		t.Run(tc.file, func(t *testing.T) {
			env := map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": tc.event,
				"GITHUB_EVENT_PATH": filepath.Join("..", "github", "testdata", "events", tc.file),
				"GITHUB_REPOSITORY": "octo-org/octo-repo",
			}
			gh, err := github.Detect(context.Background(), func(k string) string { return env[k] }, github.Request{})
			if err != nil {
				t.Fatalf("detect: %v", err)
			}
			kind, why := decideDeploy(gh, "")
			if kind != tc.want || why == "" {
				t.Fatalf("decided %s (%q), want %s", kind, why, tc.want)
			}
		})
	}
}
