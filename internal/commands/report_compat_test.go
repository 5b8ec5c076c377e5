package commands_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/commands"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/github"
)

// The schema-compat check of an event reaches the pull request as the
// commit status slipway/schema-compat and a line of the comment.
func TestSchemaCompatReachesThePullRequest(t *testing.T) {
	gh := &fakeGitHub{body: map[string]string{}}
	pub := github.NewPublisher(gh, "octo/shop", io.Discard)
	sha := "0123456789abcdef0123456789abcdef01234567"
	r := commands.NewGitHubReporter(pub, github.PreviewReport{Repo: "octo/shop", SHA: sha, Target: "local"}, func(string) string { return "" }, io.Discard)
	compat := &deploy.CompatCheck{Status: deploy.CompatFailed, Release: "shop-prod-20261202050000-aaaaaaa", Schema: 4,
		Tests: &deploy.TestResult{Passed: 1, Failed: 1, Failures: []string{`TestDatabaseKeepsThisEnvironmentsData: POST /notes = 500`}}}
	ev := deploy.Event{PR: 42, Stack: "shop-pr-42", URL: "http://pr-42.shop.localhost:8080", Status: deploy.StatusDeployed, At: time.Now(),
		Tests: &deploy.TestResult{Passed: 3, OK: true, Summary: "integration: 3 passed, 0 failed"}, Compat: compat}
	if err := r.Report(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	gh.mu.Lock()
	defer gh.mu.Unlock()
	var status struct{ State, Context, Description string }
	if err := json.Unmarshal([]byte(gh.body["POST repos/octo/shop/statuses/"+sha]), &status); err != nil {
		t.Fatal(err)
	}
	if status.Context != "slipway/schema-compat" || status.State != "failure" ||
		status.Description != "release shop-prod-20261202050000-aaaaaaa fails on this PR's schema 4: TestDatabaseKeepsThisEnvironmentsData" {
		t.Errorf("last commit status %+v, want slipway/schema-compat failure naming the release and the test", status)
	}
	if !strings.Contains(gh.comment, "| **Schema compatibility** | ❌ release shop-prod-20261202050000-aaaaaaa fails on this PR&#39;s schema 4: TestDatabaseKeepsThisEnvironmentsData |") {
		t.Errorf("the comment lacks the schema-compat line:\n%s", gh.comment)
	}
}
