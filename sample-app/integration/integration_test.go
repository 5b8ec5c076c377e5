package integration

import (
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var (
	commitMeta = regexp.MustCompile(`<meta name="slipway-commit" content="([^"]*)">`)
	stackMeta  = regexp.MustCompile(`<meta name="slipway-stack" content="([^"]*)">`)
)

func TestHomePageShowsTheExpectedBuild(t *testing.T) {
	resp, body := get(t, "/")
	requireOK(t, "/", resp, body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("GET / Content-Type = %q, want text/html", ct)
	}
	commit := metaContent(t, commitMeta, body, "slipway-commit")
	switch {
	case env.expectCommit != "" && !sameCommit(commit, env.expectCommit):
		t.Errorf("GET / serves commit %q, want %q (SLIPWAY_EXPECT_COMMIT)", commit, env.expectCommit)
	case commit == "":
		t.Error("GET / shows an empty commit")
	case !strings.Contains(body, ">"+commit+"<"):
		t.Errorf("GET / does not show commit %q on the page", commit)
	}
	stack := metaContent(t, stackMeta, body, "slipway-stack")
	if env.expectStack != "" && stack != env.expectStack {
		t.Errorf("GET / served by stack %q, want %q (SLIPWAY_EXPECT_STACK)", stack, env.expectStack)
	}
}

func TestVersionReportsTheExpectedBuild(t *testing.T) {
	resp, body := get(t, "/version")
	requireOK(t, "/version", resp, body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("GET /version Content-Type = %q, want application/json", ct)
	}
	var v struct {
		Version, Commit, Stack, Message string
		Dirty                           bool
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("GET /version is not JSON: %v\n%s", err, body)
	}
	switch {
	case env.expectCommit != "" && !sameCommit(v.Commit, env.expectCommit):
		t.Errorf("GET /version reports commit %q, want %q (SLIPWAY_EXPECT_COMMIT)", v.Commit, env.expectCommit)
	case v.Commit == "":
		t.Errorf("GET /version reports no commit: %s", body)
	}
	if env.expectStack != "" && v.Stack != env.expectStack {
		t.Errorf("GET /version reports stack %q, want %q (SLIPWAY_EXPECT_STACK)", v.Stack, env.expectStack)
	}
	if v.Version == "" {
		t.Errorf("GET /version reports no version: %s", body)
	}
	if strings.HasSuffix(v.Version, "-dirty") != v.Dirty {
		t.Errorf("GET /version: version %q but dirty %t: a dirty build must say so in both", v.Version, v.Dirty)
	}
}

func TestHealthzIsOK(t *testing.T) {
	resp, body := get(t, "/healthz")
	requireOK(t, "/healthz", resp, body)
}

// metaContent returns the unescaped content of the named meta tag, failing
// the test when the page has none.
func metaContent(t *testing.T, re *regexp.Regexp, body, name string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("GET / has no <meta name=%q> tag; is this the sample app?", name)
	}
	return html.UnescapeString(m[1])
}

// requireOK stops the test unless the answer is 200, quoting the start of
// the body: a router's or load balancer's error page says what went wrong.
func requireOK(t *testing.T, path string, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode == http.StatusOK {
		return
	}
	if len(body) > 200 {
		body = body[:200] + "..."
	}
	t.Fatalf("GET %s status = %s, want 200 OK (body %q)", path, resp.Status, body)
}

// sameCommit reports whether the served commit is want, which may be
// abbreviated like the 7 characters `status` shows (at least 7).
func sameCommit(served, want string) bool {
	want = strings.ToLower(want)
	return served == want || (len(want) >= 7 && strings.HasPrefix(strings.ToLower(served), want))
}
