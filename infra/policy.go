package infra

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/slipway/slipway/internal/naming"
)

// IAM policy files (infra/iam). Their text holds the placeholders <app>,
// <account>, <region>, <repo> (the repository as GitHub's OIDC subject
// names it) and <default-branch>, which Policy fills.
const (
	PolicyPreview = "preview-role.json"  // permissions of the preview role
	PolicyRelease = "release-role.json"  // permissions of the release role
	TrustPreview  = "preview-trust.json" // GitHub OIDC trust: pull_request, and the default branch's ref (pull_request_target: preview-fork.yml)
	TrustRelease  = "release-trust.json" // GitHub OIDC trust: environment:production and environment:preview-database subjects
)

// PolicyNames lists the policy files in the order the README installs them.
func PolicyNames() []string {
	return []string{PolicyPreview, TrustPreview, PolicyRelease, TrustRelease}
}

// PolicyVars fill a policy's placeholders.
type PolicyVars struct {
	App     string // SLIPWAY_APP
	Account string // 12-digit AWS account ID
	Region  string // e.g. eu-west-1
	// Repo is the repository as GitHub's OIDC subject names it: owner/name,
	// or owner@<owner ID>/name@<repository ID> for a repository on
	// immutable subject claims (new repositories from mid-2026, and any
	// that opted in). GitHub reports it, with "repo:" before it, as
	// sub_claim_prefix of GET /repos/{owner}/{repo}/actions/oidc/customization/sub.
	Repo string
	// DefaultBranch is the repository's default branch (empty: main):
	// pull_request_target jobs present its ref as their subject.
	DefaultBranch string
}

var (
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	repoRe    = regexp.MustCompile(`^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$|^[A-Za-z0-9-]{1,39}@[0-9]{1,20}/[A-Za-z0-9._-]{1,100}@[0-9]{1,20}$`)
	branchRe  = regexp.MustCompile(`^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$`)
)

// Policy returns the named policy file with its placeholders filled, as
// JSON ready for `aws iam create-role` / `put-role-policy`.
func Policy(name string, v PolicyVars) ([]byte, error) {
	if err := naming.ValidateApp(v.App); err != nil {
		return nil, fmt.Errorf("render policy %s: %w", name, err)
	}
	if !accountRe.MatchString(v.Account) {
		return nil, fmt.Errorf("render policy %s: account %q: want the 12-digit AWS account ID", name, v.Account)
	}
	if !regionRe.MatchString(v.Region) {
		return nil, fmt.Errorf("render policy %s: region %q: want a region such as eu-west-1", name, v.Region)
	}
	v.Repo = strings.TrimPrefix(v.Repo, "repo:") // sub_claim_prefix as GitHub reports it
	if !repoRe.MatchString(v.Repo) {
		return nil, fmt.Errorf("render policy %s: repository %q: want GitHub owner/name, or owner@<id>/name@<id> for immutable subject claims (gh api repos/OWNER/NAME/actions/oidc/customization/sub --jq .sub_claim_prefix)", name, v.Repo)
	}
	if v.DefaultBranch == "" {
		v.DefaultBranch = "main"
	}
	if !branchRe.MatchString(v.DefaultBranch) || strings.Contains(v.DefaultBranch, "..") {
		return nil, fmt.Errorf("render policy %s: default branch %q is not a branch name", name, v.DefaultBranch)
	}
	raw, err := files.ReadFile("iam/" + name)
	if err != nil {
		return nil, fmt.Errorf("render policy %s: no such policy (have %s)", name, strings.Join(PolicyNames(), ", "))
	}
	r := strings.NewReplacer("<app>", v.App, "<account>", v.Account, "<region>", v.Region, "<repo>", v.Repo, "<default-branch>", v.DefaultBranch)
	out := []byte(r.Replace(string(raw)))
	if !json.Valid(out) {
		return nil, fmt.Errorf("render policy %s: result is not JSON", name)
	}
	return out, nil
}
