package github

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/naming"
)

// IntegrationContext is the commit status the integration tests of a
// preview report; branch protection can require it.
const IntegrationContext = "slipway/integration"

// Commit status states.
const (
	StatePending = "pending"
	StateSuccess = "success"
	StateFailure = "failure"
	StateError   = "error"
)

// CommitStatus is one commit status.
type CommitStatus struct {
	Context     string // defaults to IntegrationContext
	State       string // pending, success, failure or error
	Description string // cut to 140 characters
	TargetURL   string
}

// Statuses sets commit statuses in one repository.
type Statuses struct {
	api  Requester
	repo string
}

// NewStatuses returns a Statuses for repo ("owner/name").
func NewStatuses(c Requester, repo string) *Statuses { return &Statuses{api: c, repo: repo} }

// Set sets status s on commit sha.
func (s *Statuses) Set(ctx context.Context, sha string, st CommitStatus) error {
	if st.Context == "" {
		st.Context = IntegrationContext
	}
	switch st.State {
	case StatePending, StateSuccess, StateFailure, StateError:
	default:
		return fmt.Errorf("set commit status %s on %s: state %q is not pending, success, failure or error", st.Context, naming.ShortCommit(sha), st.State)
	}
	base, err := repoPath(s.repo)
	if err != nil {
		return fmt.Errorf("set commit status %s on %s: %w", st.Context, naming.ShortCommit(sha), err)
	}
	if !hexSHA.MatchString(sha) {
		return fmt.Errorf("set commit status %s: %q is not a commit SHA", st.Context, sha)
	}
	in := struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url,omitempty"`
		Description string `json:"description,omitempty"`
		Context     string `json:"context"`
	}{st.State, st.TargetURL, clip(oneLine(st.Description), 140), st.Context}
	path := base + "/statuses/" + url.PathEscape(sha)
	if _, err := call(ctx, s.api, http.MethodPost, path, in, nil); err != nil {
		return fmt.Errorf("set commit status %s on %s: %w", st.Context, naming.ShortCommit(sha), err)
	}
	return nil
}

// integrationStatus is the slipway/integration status for a preview report.
// A preview reported as deployed without a test result gets "error": the
// required check must not pass unless the tests ran.
func integrationStatus(r PreviewReport) CommitStatus {
	st := CommitStatus{Context: IntegrationContext, TargetURL: r.LogURL}
	switch {
	case r.Status == StatusDeploying:
		st.State, st.Description = StatePending, "Deploying the preview; integration tests follow"
	case r.Tests != nil && r.Tests.OK && r.Status == StatusDeployed:
		st.State, st.Description = StateSuccess, testCounts(r.Tests)+where(r)
	case r.Tests != nil && !r.Tests.OK:
		st.State, st.Description = StateFailure, testCounts(r.Tests)+where(r)
	case r.Status == StatusFailed:
		st.State, st.Description = StateError, "Preview deploy failed: "+oneLine(r.Err)
	default:
		st.State, st.Description = StateError, "Deployed, but no integration test result was reported"
	}
	if r.Tests != nil && r.Tests.Summary != "" && st.State != StatePending {
		st.Description += ": " + oneLine(r.Tests.Summary)
	}
	return st
}

func testCounts(t *TestResult) string {
	return fmt.Sprintf("%d passed, %d failed", t.Passed, t.Failed)
}

func where(r PreviewReport) string {
	if r.Ephemeral {
		return " (on the CI runner)"
	}
	if r.Target != "" {
		return " (" + r.Target + ")"
	}
	return ""
}

// SchemaCompatContext is the commit status of a preview's schema-compat
// check: the live release's tests against the PR's migrated database.
const SchemaCompatContext = "slipway/schema-compat"

// compatStatus is the slipway/schema-compat status for a report with a
// schema-compat check; ok is false when it has none.
func compatStatus(r PreviewReport) (st CommitStatus, ok bool) {
	c := r.Compat
	if c == nil {
		return CommitStatus{}, false
	}
	st = CommitStatus{Context: SchemaCompatContext, TargetURL: r.LogURL, Description: compatText(*c)}
	switch c.Status {
	case StatusPendingCompat:
		st.State = StatePending
	case StatusPassedCompat:
		st.State = StateSuccess
	case StatusFailedCompat:
		st.State = StateFailure
	default:
		st.State = StateError
	}
	return st, true
}

// compatText is the check's outcome in one line, naming the release and
// the failing tests.
func compatText(c CompatReport) string {
	release := "release " + c.Release
	switch {
	case c.Status == StatusPendingCompat:
		return "Running the live release's tests against this PR's migrated database"
	case c.Status == StatusPassedCompat && c.Release == "":
		return "No release to check against"
	case c.Status == StatusPassedCompat:
		return fmt.Sprintf("%s passes on this PR's schema %d (%d passed)", release, c.Schema, c.Passed)
	case c.Status == StatusFailedCompat && len(c.Failing) > 0:
		return failingList(fmt.Sprintf("%s fails on this PR's schema %d: ", release, c.Schema), c.Failing)
	case c.Status == StatusFailedCompat:
		return fmt.Sprintf("%s fails on this PR's schema %d (%d passed, %d failed)", release, c.Schema, c.Passed, c.Failed)
	}
	return "Not checked: " + oneLine(c.Reason)
}

// Schema-compat outcomes of a CompatReport, defined once in package deploy.
const (
	StatusPendingCompat = string(deploy.CompatPending)
	StatusPassedCompat  = string(deploy.CompatPassed)
	StatusFailedCompat  = string(deploy.CompatFailed)
)

// failingList appends whole test names to head while the line fits a
// commit status (140 characters), then says how many more failed.
func failingList(head string, names []string) string {
	const limit = 140
	line := head
	for i, n := range names {
		sep := ""
		if i > 0 {
			sep = ", "
		}
		more := ""
		if rest := len(names) - i - 1; rest > 0 {
			more = fmt.Sprintf(" and %d more", rest)
		}
		if i > 0 && len(line)+len(sep)+len(n)+len(more) > limit {
			return line + fmt.Sprintf(" and %d more", len(names)-i)
		}
		line += sep + n
	}
	return line
}
