package infra

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The subjects GitHub puts in a job's OIDC token (GitHub Docs, "OpenID
// Connect reference", "Example subject claims"): a job that references an
// environment presents repo:<repo>:environment:<name> whatever the event;
// otherwise a pull_request job presents repo:<repo>:pull_request and every
// other event the ref the job runs on, repo:<repo>:ref:refs/heads/<branch>.
// pull_request_target runs on the default branch, whatever the pull
// request's base (GitHub changelog 2025-11-07, "Actions pull_request_target
// and environment branch protections changes", in force since 8 December
// 2025), and so do schedule and (from the Actions tab) workflow_dispatch.
// <repo> is owner/name, or owner@<id>/name@<id> for a repository on
// immutable subject claims (GitHub changelog 2026-04-23, "Immutable subject
// claims for GitHub Actions OIDC tokens"; GitHub Docs, "Configuring OpenID
// Connect in Amazon Web Services": "Make sure your trust policy matches the
// format your repository uses").
func jobSubjects(repo, defaultBranch string, on map[string]any, job map[string]any) []string {
	if env := environmentOf(job); env != "" {
		return []string{"repo:" + repo + ":environment:" + env}
	}
	var subs []string
	for event, cfg := range on {
		switch event {
		case "pull_request":
			subs = append(subs, "repo:"+repo+":pull_request")
		case "push":
			branches := []string{defaultBranch}
			if m, ok := cfg.(map[string]any); ok && m["branches"] != nil {
				branches = nil
				for _, b := range m["branches"].([]any) {
					branches = append(branches, b.(string))
				}
			}
			for _, b := range branches {
				subs = append(subs, "repo:"+repo+":ref:refs/heads/"+b)
			}
		default: // pull_request_target, schedule, workflow_dispatch
			subs = append(subs, "repo:"+repo+":ref:refs/heads/"+defaultBranch)
		}
	}
	sort.Strings(subs)
	return slices.Compact(subs)
}

func environmentOf(job map[string]any) string {
	switch e := job["environment"].(type) {
	case string:
		return e
	case map[string]any:
		return e["name"].(string)
	}
	return ""
}

// roleOf is the trust policy of the role a job assumes: the repository's
// AWS_ROLE_ARN is the preview role; the production and preview-database
// environments set their own, the release role (docs/github.md).
func roleOf(t *testing.T, file, name string, job map[string]any) string {
	switch env := environmentOf(job); env {
	case "":
		return TrustPreview
	case "production", "preview-database":
		return TrustRelease
	default:
		t.Fatalf("%s job %s: environment %q: which role does its AWS_ROLE_ARN name? Add it here and to docs/github.md", file, name, env)
		return ""
	}
}

// assumesARole reports whether a job assumes an AWS role through OIDC.
func assumesARole(job map[string]any) bool {
	steps, _ := job["steps"].([]any)
	for _, s := range steps {
		if uses, _ := s.(map[string]any)["uses"].(string); strings.HasSuffix(uses, "/aws-credentials") || strings.HasPrefix(uses, "aws-actions/configure-aws-credentials") {
			return true
		}
	}
	return false
}

type workflowFile struct {
	On   map[string]any            `yaml:"on"`
	Jobs map[string]map[string]any `yaml:"jobs"`
}

// Every job of every workflow that assumes an AWS role presents a subject
// that role's trust policy admits, for each event the workflow runs on, for
// a repository whose subject carries names and for one on immutable
// subject claims. (AWS matches the trust policy's StringEquals on
// token.actions.githubusercontent.com:sub exactly; a job it refuses fails
// in configure-aws-credentials with "Not authorized to perform
// sts:AssumeRoleWithWebIdentity".)
func TestWorkflowJobsCanAssumeTheirRole(t *testing.T) {
	dir := filepath.Join("..", ".github", "workflows")
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows in %s: %v", dir, err)
	}
	for _, repo := range []string{"acme/shop", "acme@1234567/shop@890123456"} {
		v := vars
		v.Repo = repo
		assumed := 0
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var wf workflowFile
			if err := yaml.Unmarshal(raw, &wf); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for name, job := range wf.Jobs {
				if !assumesARole(job) {
					continue
				}
				assumed++
				trust := roleOf(t, filepath.Base(f), name, job)
				p := loadPolicyWith(t, trust, v)
				for _, sub := range jobSubjects(repo, "main", wf.On, job) {
					r := request{"sts:AssumeRoleWithWebIdentity", "*", map[string][]string{
						"token.actions.githubusercontent.com:sub": {sub}, "token.actions.githubusercontent.com:aud": {"sts.amazonaws.com"}}}
					if got := decide(t, p, r); !strings.HasPrefix(got, "allowed") {
						t.Errorf("%s job %s presents %s; %s: %s", filepath.Base(f), name, sub, trust, got)
					}
				}
			}
		}
		if assumed < 6 {
			t.Errorf("%d jobs assume a role; want the preview deploy and destroy, the fork deploy and destroy, release, cleanup and preview-database", assumed)
		}
	}
}

// The trust policies admit no subject a job of this repository's other
// events, branches or forks would present.
func TestTrustPoliciesAdmitNoOtherSubject(t *testing.T) {
	for _, c := range []struct {
		trust, sub string
	}{
		{TrustPreview, "repo:acme/shop:ref:refs/heads/feature"},                           // a push to a branch
		{TrustPreview, "repo:acme/shop:environment:production"},                           // production's jobs use the release role
		{TrustPreview, "repo:acme/shop-fork:pull_request"},                                // another repository
		{TrustPreview, "repo:acme@1234567/shop@890123456:pull_request"},                   // the ID form, for a repository rendered with names
		{TrustRelease, "repo:acme/shop:pull_request"},                                     // a pull request's own workflow
		{TrustRelease, "repo:acme/shop:ref:refs/heads/main"},                              // main without the environment's reviewers
		{TrustRelease, "repo:acme/shop:environment:staging"},                              // another environment
		{TrustRelease, "repo:evil/shop:environment:production"},                           // another owner
		{TrustRelease, "repo:acme@7654321/shop@890123456:environment:production"},         // a recycled owner name
		{TrustPreview, "repo:acme/shop:ref:refs/heads/main-but-not"},                      // a branch named like the default
		{TrustRelease, "repo:acme/shop:environment:production:job_workflow_ref:whatever"}, // a customised template
	} {
		v := vars
		if strings.Contains(c.sub, "@7654321") {
			v.Repo = "acme@1234567/shop@890123456"
		}
		p := loadPolicyWith(t, c.trust, v)
		r := request{"sts:AssumeRoleWithWebIdentity", "*", map[string][]string{
			"token.actions.githubusercontent.com:sub": {c.sub}, "token.actions.githubusercontent.com:aud": {"sts.amazonaws.com"}}}
		if got := decide(t, p, r); strings.HasPrefix(got, "allowed") {
			t.Errorf("%s admits %s: %s", c.trust, c.sub, got)
		}
	}
}
