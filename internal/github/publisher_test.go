package github

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cli/go-gh/v2/pkg/api"
)

// newTestPublisher returns a Publisher talking to f, logging to log, with a
// fixed clock.
func newTestPublisher(t *testing.T, f *fakeGitHub, log *strings.Builder) *Publisher {
	p := NewPublisher(f.client(t), "octocat/Hello-World", log)
	p.now = func() time.Time { return renderTime }
	return p
}

func TestPublisherCreatesTheCommentOnceThenUpdatesIt(t *testing.T) {
	f := newFakeGitHub(t)
	f.addComment(42, "Looks good to me", "octocat")
	var log strings.Builder
	p := newTestPublisher(t, f, &log)
	r := deployedReport()
	ctx := context.Background()
	if err := p.PreviewStarted(ctx, r); err != nil {
		t.Fatalf("PreviewStarted: %v", err)
	}
	if err := p.PreviewFinished(ctx, r); err != nil {
		t.Fatalf("PreviewFinished: %v", err)
	}
	if err := p.PreviewFinished(ctx, r); err != nil { // a re-run posts the same body
		t.Fatalf("PreviewFinished again: %v", err)
	}
	bodies := f.commentBodies(42)
	if len(bodies) != 2 || !strings.HasPrefix(bodies[1], Marker) || !strings.Contains(bodies[1], "✅ deployed") {
		t.Fatalf("comments on #42 = %q; want the reviewer's and one Slipway comment saying deployed", bodies)
	}
	if c, u := len(f.callsTo("issues/create-comment")), len(f.callsTo("issues/update-comment")); c != 1 || u != 1 {
		t.Errorf("created %d and updated %d comments; want 1 and 1 (an unchanged body is not sent again)", c, u)
	}
	if log.Len() != 0 {
		t.Errorf("unexpected log output: %s", log.String())
	}
}

func TestCommentMarkerOnTheSecondPageIsFound(t *testing.T) {
	f := newFakeGitHub(t)
	f.pageSize = 2
	f.addComment(42, "first", "octocat")
	f.addComment(42, "quoting: "+Marker, "mallory") // the marker, but not first: not ours
	id := f.addComment(42, Marker+"\nold preview", "github-actions[bot]")
	var log strings.Builder
	c := NewComments(f.client(t), "octocat/Hello-World", &log)
	got, created, err := c.Upsert(context.Background(), 42, Marker+"\nnew preview")
	if err != nil || created || got.ID != id {
		t.Fatalf("Upsert = %d, created %v, %v; want comment %d updated", got.ID, created, err, id)
	}
	lists := f.callsTo("issues/list-comments")
	if len(lists) != 2 || lists[0].Query.Get("per_page") != "100" || lists[1].Query.Get("page") != "2" {
		t.Errorf("list calls = %+v; want page 1 then page 2 from the Link header", lists)
	}
	if n := len(f.callsTo("issues/create-comment")); n != 0 {
		t.Errorf("created %d comments; want none", n)
	}
	if bodies := f.commentBodies(42); bodies[2] != Marker+"\nnew preview" || bodies[1] != "quoting: "+Marker {
		t.Errorf("comments = %q", bodies)
	}
}

func TestForbiddenCommentIsAWarningNotAFailure(t *testing.T) {
	f := newFakeGitHub(t)
	f.fail["issues/create-comment"] = http.StatusForbidden
	var log strings.Builder
	p := newTestPublisher(t, f, &log)
	if err := p.PreviewStarted(context.Background(), deployedReport()); err != nil {
		t.Fatalf("PreviewStarted: %v; a 403 must not fail the deploy", err)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "warning: create comment on pull request #42") || !strings.Contains(lines[0], "403") {
		t.Errorf("log = %q; want one warning line about the comment", log.String())
	}
	if n := len(f.callsTo("repos/create-deployment-status")); n != 1 {
		t.Errorf("deployment statuses = %d; the other parts must still be published", n)
	}
}

func TestReadOnlyTokenWarnsOnEveryPartAndFailsNothing(t *testing.T) {
	f := newFakeGitHub(t)
	for _, op := range []string{"issues/create-comment", "repos/create-deployment", "repos/create-commit-status", "repos/create-deployment-status"} {
		f.fail[op] = http.StatusForbidden
	}
	var log strings.Builder
	p := newTestPublisher(t, f, &log)
	p.commands = true
	ctx := context.Background()
	r := deployedReport()
	if err := errors.Join(p.PreviewStarted(ctx, r), p.PreviewFinished(ctx, r)); err != nil {
		t.Fatalf("publish with a read-only token: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		if !strings.HasPrefix(line, "::warning::") || !strings.Contains(line, "read-only token") {
			t.Errorf("log line %q; want a ::warning:: command", line)
		}
	}
}

func TestCommitStatus422IsAnError(t *testing.T) {
	f := newFakeGitHub(t)
	f.fail["repos/create-commit-status"] = http.StatusUnprocessableEntity
	var log strings.Builder
	p := newTestPublisher(t, f, &log)
	err := p.PreviewFinished(context.Background(), deployedReport())
	var h *api.HTTPError
	if !errors.As(err, &h) || h.StatusCode != 422 || !strings.Contains(err.Error(), "set commit status slipway/integration on 6dcb09b") {
		t.Fatalf("PreviewFinished error = %v; want the 422 of the commit status, wrapped", err)
	}
	if bodies := f.commentBodies(42); len(bodies) != 1 {
		t.Errorf("comments = %d; the comment must still be written", len(bodies))
	}
}

func TestDeployment202CreatesNoStatuses(t *testing.T) {
	f := newFakeGitHub(t)
	f.deploy202 = true
	var log strings.Builder
	p := newTestPublisher(t, f, &log)
	ctx := context.Background()
	r := deployedReport()
	if err := errors.Join(p.PreviewStarted(ctx, r), p.PreviewFinished(ctx, r)); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if n := len(f.callsTo("repos/create-deployment")); n != 1 {
		t.Errorf("create-deployment called %d times; want 1 (the 202 is remembered)", n)
	}
	if n := len(f.callsTo("repos/create-deployment-status")); n != 0 {
		t.Errorf("create-deployment-status called %d times; want none", n)
	}
	if !strings.Contains(log.String(), "HTTP 202: Auto-merged master into topic-branch") || strings.Count(log.String(), "\n") != 1 {
		t.Errorf("log = %q; want one warning quoting the 202", log.String())
	}
	if n := len(f.callsTo("repos/create-commit-status")); n != 2 {
		t.Errorf("commit statuses = %d; want pending then the result", n)
	}
}

func TestPreviewDeploymentRequestsAndStatuses(t *testing.T) {
	f := newFakeGitHub(t)
	var log strings.Builder
	p := newTestPublisher(t, f, &log)
	ctx := context.Background()
	r := deployedReport()
	if err := p.PreviewStarted(ctx, r); err != nil {
		t.Fatalf("PreviewStarted: %v", err)
	}
	r.Err = strings.Repeat("long failure text ", 20)
	r.Status = StatusFailed
	if err := p.PreviewFinished(ctx, r); err != nil {
		t.Fatalf("PreviewFinished: %v", err)
	}
	creates := f.callsTo("repos/create-deployment")
	if len(creates) != 1 {
		t.Fatalf("create-deployment calls = %d; want 1", len(creates))
	}
	b := creates[0].Body
	if b["environment"] != "pr-42" || b["ref"] != prHeadSHA || b["transient_environment"] != true || b["auto_merge"] != false ||
		b["production_environment"] != false || len(b["required_contexts"].([]any)) != 0 {
		t.Errorf("create-deployment body = %v", b)
	}
	statuses := f.callsTo("repos/create-deployment-status")
	if len(statuses) != 2 || statuses[0].Body["state"] != "in_progress" || statuses[1].Body["state"] != "failure" ||
		statuses[1].Body["log_url"] != r.LogURL {
		t.Errorf("deployment statuses = %+v; want in_progress then failure with the log URL", statuses)
	}
	commit := f.callsTo("repos/create-commit-status")
	if len(commit) != 2 || commit[0].Body["state"] != "pending" || commit[1].Body["state"] != "error" ||
		commit[1].Body["context"] != IntegrationContext || commit[1].Path != "/repos/octocat/Hello-World/statuses/"+prHeadSHA {
		t.Errorf("commit statuses = %+v; want pending then error on %s", commit, IntegrationContext)
	}
}

func TestFinishedFindsTheDeploymentOfAnEarlierRun(t *testing.T) {
	f := newFakeGitHub(t)
	id := f.addDeployment("pr-42", prHeadSHA)
	var log strings.Builder
	p := newTestPublisher(t, f, &log)
	if err := p.PreviewFinished(context.Background(), deployedReport()); err != nil {
		t.Fatalf("PreviewFinished: %v", err)
	}
	if n := len(f.callsTo("repos/create-deployment")); n != 0 {
		t.Errorf("created %d deployments; want the listed one reused", n)
	}
	s := f.callsTo("repos/create-deployment-status")
	if len(s) != 1 || s[0].Path != "/repos/octocat/Hello-World/deployments/"+itoa(id)+"/statuses" ||
		s[0].Body["environment_url"] != "https://pr-42.preview.example.com" || s[0].Body["state"] != "success" {
		t.Errorf("deployment statuses = %+v", s)
	}
}

func TestEphemeralPreviewEndsInactive(t *testing.T) {
	f := newFakeGitHub(t)
	var log strings.Builder
	p := newTestPublisher(t, f, &log)
	r := deployedReport()
	r.Ephemeral, r.Target, r.URL = true, "local", "http://127.0.0.1:8080"
	if err := p.PreviewFinished(context.Background(), r); err != nil {
		t.Fatalf("PreviewFinished: %v", err)
	}
	s := f.callsTo("repos/create-deployment-status")
	if len(s) != 2 || s[0].Body["state"] != "success" || s[0].Body["environment_url"] != nil || s[1].Body["state"] != "inactive" {
		t.Errorf("deployment statuses = %+v; want success without a URL, then inactive", s)
	}
	if bodies := f.commentBodies(42); len(bodies) != 1 || !strings.Contains(bodies[0], "lived only for this run") {
		t.Errorf("comment = %q; want it to say the environment lived only for the run", bodies)
	}
}

func TestPreviewDestroyedDeactivatesEveryDeploymentOfTheEnvironment(t *testing.T) {
	f := newFakeGitHub(t)
	f.pageSize = 2
	ids := []int64{f.addDeployment("pr-42", prHeadSHA), f.addDeployment("pr-42", strings.Repeat("b", 40)), f.addDeployment("pr-42", strings.Repeat("c", 40))}
	f.addDeployment("pr-7", prHeadSHA)
	var log strings.Builder
	p := newTestPublisher(t, f, &log)
	r := deployedReport()
	r.SHA = ""
	if err := p.PreviewDestroyed(context.Background(), r); err != nil {
		t.Fatalf("PreviewDestroyed: %v", err)
	}
	s := f.callsTo("repos/create-deployment-status")
	if len(s) != len(ids) {
		t.Fatalf("deployment statuses = %d; want one per deployment of pr-42 (%d)", len(s), len(ids))
	}
	for i, c := range s {
		if c.Body["state"] != "inactive" || !strings.Contains(c.Path, "/deployments/"+itoa(ids[len(ids)-1-i])+"/") {
			t.Errorf("status %d = %+v; want inactive on the deployments of pr-42, newest first", i, c)
		}
	}
	if bodies := f.commentBodies(42); len(bodies) != 1 || !strings.Contains(bodies[0], "was removed") {
		t.Errorf("comment = %q; want it to say the environment was removed", bodies)
	}
}

func TestProductionDeploymentRequest(t *testing.T) {
	f := newFakeGitHub(t)
	d := NewDeployments(f.client(t), "octocat/Hello-World")
	got, err := d.Create(context.Background(), ProductionDeployment(prHeadSHA))
	if err != nil || got.ID == 0 || got.SHA != prHeadSHA {
		t.Fatalf("Create = %+v, %v", got, err)
	}
	b := f.callsTo("repos/create-deployment")[0].Body
	if b["environment"] != "production" || b["production_environment"] != true || b["transient_environment"] != false {
		t.Errorf("create-deployment body = %v", b)
	}
}

func TestPublisherRejectsIncompleteReports(t *testing.T) {
	p := NewPublisher(nil, "octocat/Hello-World", nil)
	ctx := context.Background()
	if err := p.PreviewStarted(ctx, PreviewReport{SHA: prHeadSHA}); err == nil || !strings.Contains(err.Error(), "no pull request number") {
		t.Errorf("PreviewStarted without PR = %v", err)
	}
	if err := p.PreviewFinished(ctx, PreviewReport{PR: 42}); err == nil || !strings.Contains(err.Error(), "no commit SHA") {
		t.Errorf("PreviewFinished without SHA = %v", err)
	}
	if err := NewStatuses(nil, "octocat/Hello-World").Set(ctx, "main;rm", CommitStatus{State: StateSuccess}); err == nil {
		t.Error("Statuses.Set accepted a SHA that is not hex")
	}
	if err := NewStatuses(nil, "../x").Set(ctx, prHeadSHA, CommitStatus{State: StateSuccess}); err == nil {
		t.Error("Statuses.Set accepted a repository that is not owner/name")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestPreviewWithADatabaseSetsTheSchemaCompatStatus(t *testing.T) {
	f := newFakeGitHub(t)
	var log strings.Builder
	p := newTestPublisher(t, f, &log)
	ctx := context.Background()
	r := deployedReport()
	r.Compat = &CompatReport{Status: StatusPendingCompat}
	if err := p.PreviewStarted(ctx, r); err != nil {
		t.Fatalf("PreviewStarted: %v", err)
	}
	r.Compat = &CompatReport{Status: StatusFailedCompat, Release: "slipway-prod-20250314140000-6dcb09b", Schema: 4, Passed: 1, Failed: 1, Failing: []string{"TestDatabaseKeepsThisEnvironmentsData"}}
	if err := p.PreviewFinished(ctx, r); err != nil {
		t.Fatalf("PreviewFinished: %v", err)
	}
	var got []string
	for _, c := range f.callsTo("repos/create-commit-status") {
		got = append(got, c.Body["context"].(string)+" "+c.Body["state"].(string))
	}
	want := "slipway/integration pending, slipway/schema-compat pending, slipway/integration success, slipway/schema-compat failure"
	if strings.Join(got, ", ") != want {
		t.Fatalf("commit statuses %q, want %q", strings.Join(got, ", "), want)
	}
	last := f.callsTo("repos/create-commit-status")[3].Body["description"].(string)
	if !strings.Contains(last, "slipway-prod-20250314140000-6dcb09b") || !strings.Contains(last, "TestDatabaseKeepsThisEnvironmentsData") {
		t.Errorf("schema-compat description %q must name the release and the failing test", last)
	}
	if bodies := f.commentBodies(42); len(bodies) != 1 || !strings.Contains(bodies[0], "**Schema compatibility** | ❌") {
		t.Errorf("comment lacks the schema-compat line:\n%s", bodies)
	}
}
