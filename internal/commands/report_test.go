package commands_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/commands"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/github"
)

// fakeGitHub answers the REST calls the publisher makes with the shapes
// GitHub answers (recorded in internal/github/testdata/rest) and keeps them.
type fakeGitHub struct {
	mu      sync.Mutex
	calls   []string
	body    map[string]string // last body per method+path
	comment string            // the one comment on the pull request, once created
}

func (f *fakeGitHub) RequestWithContext(_ context.Context, method, path string, body io.Reader) (*http.Response, error) {
	var b []byte
	if body != nil {
		var err error
		if b, err = io.ReadAll(body); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := method + " " + strings.SplitN(path, "?", 2)[0]
	f.calls = append(f.calls, key)
	f.body[key] = string(b)
	status, out := http.StatusOK, "[]"
	switch {
	case method == http.MethodGet && strings.HasSuffix(key, "/issues/42/comments") && f.comment != "":
		c, err := json.Marshal([]map[string]any{{"id": 7, "body": f.comment}})
		if err != nil {
			return nil, err
		}
		out = string(c)
	case strings.HasSuffix(key, "/issues/42/comments") && method == http.MethodPost,
		strings.HasSuffix(key, "/issues/comments/7") && method == http.MethodPatch:
		var c struct{ Body string }
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, err
		}
		f.comment = c.Body
		status, out = http.StatusCreated, `{"id": 7}`
		if method == http.MethodPatch {
			status = http.StatusOK
		}
	case method == http.MethodPost && strings.HasSuffix(path, "/deployments"):
		status, out = http.StatusCreated, `{"id": 4242, "sha": "0123456789abcdef0123456789abcdef01234567", "environment": "pr-42"}`
	case method == http.MethodPost:
		status, out = http.StatusCreated, `{"id": 7, "state": "success"}`
	case method == http.MethodPatch:
		out = `{"id": 7}`
	}
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(out))}, nil
}

func TestPreviewEventsReachThePullRequest(t *testing.T) {
	gh := &fakeGitHub{body: map[string]string{}}
	summary := filepath.Join(t.TempDir(), "summary.md")
	env := func(k string) string {
		if k == "GITHUB_STEP_SUMMARY" {
			return summary
		}
		return ""
	}
	var log bytes.Buffer
	pub := github.NewPublisher(gh, "octo/shop", &log)
	sha := "0123456789abcdef0123456789abcdef01234567"
	r := commands.NewGitHubReporter(pub, github.PreviewReport{Repo: "octo/shop", Branch: "feature/x", SHA: sha, Target: "local"}, env, &log)
	ctx := context.Background()
	url := "http://pr-42.shop.localhost:8080"
	if err := r.Report(ctx, deploy.Event{PR: 42, Stack: "shop-pr-42", URL: url, Status: "deploying", At: time.Now()}); err != nil {
		t.Fatalf("deploying: %v\n%s", err, log.String())
	}
	tests := &deploy.TestResult{Passed: 3, OK: true, Summary: "integration: 3 passed, 0 failed"}
	ev := deploy.Event{PR: 42, Stack: "shop-pr-42", URL: url, StackURL: "http://127.0.0.1:18100", Status: "deployed", Tests: tests, Image: deploy.Image{Digest: "sha256:abcdef0123456789", Commit: sha}, At: time.Now()}
	if err := r.Report(ctx, ev); err != nil {
		t.Fatalf("deployed: %v\n%s", err, log.String())
	}
	gh.mu.Lock()
	defer gh.mu.Unlock()
	calls := strings.Join(gh.calls, "\n")
	t.Logf("GitHub calls:\n%s", calls)
	for _, want := range []string{"POST repos/octo/shop/deployments", "POST repos/octo/shop/statuses/" + sha, "POST repos/octo/shop/issues/42/comments"} {
		if !strings.Contains(calls, want) {
			t.Errorf("no %q among the calls:\n%s", want, calls)
		}
	}
	var status struct{ State, Context string }
	if err := json.Unmarshal([]byte(gh.body["POST repos/octo/shop/statuses/"+sha]), &status); err != nil || status.State != "success" || status.Context != "slipway/integration" {
		t.Errorf("last commit status %+v (%v), want slipway/integration success", status, err)
	}
	if n := strings.Count(calls, "POST repos/octo/shop/issues/42/comments"); n != 1 {
		t.Errorf("%d comments created, want one, then updated in place", n)
	}
	if comment := gh.comment; !strings.Contains(comment, "| **URL** | <http://127.0.0.1:18100> |") || !strings.Contains(comment, "by host name: pr-42.shop.localhost:8080") ||
		!strings.Contains(comment, "3 passed") {
		t.Errorf("the comment lacks the stack's own URL, the host name or the test result:\n%s", comment)
	}
	md, err := os.ReadFile(summary)
	if err != nil || !strings.Contains(string(md), "127.0.0.1:18100") {
		t.Errorf("step summary %q (%v) lacks the URL", md, err)
	}
}
