package infra

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/slipway/slipway/internal/naming"
)

// IAM policy files (infra/iam). Their text holds the placeholders <app>,
// <account>, <region> and <repo> (GitHub owner/name), which Policy fills.
const (
	PolicyPreview = "preview-role.json"  // permissions of the preview role
	PolicyRelease = "release-role.json"  // permissions of the release role
	TrustPreview  = "preview-trust.json" // GitHub OIDC trust: pull_request subject
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
	Repo    string // GitHub owner/name, for the OIDC subject
}

var (
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	repoRe    = regexp.MustCompile(`^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$`)
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
	if !repoRe.MatchString(v.Repo) {
		return nil, fmt.Errorf("render policy %s: repository %q: want GitHub owner/name", name, v.Repo)
	}
	raw, err := files.ReadFile("iam/" + name)
	if err != nil {
		return nil, fmt.Errorf("render policy %s: no such policy (have %s)", name, strings.Join(PolicyNames(), ", "))
	}
	r := strings.NewReplacer("<app>", v.App, "<account>", v.Account, "<region>", v.Region, "<repo>", v.Repo)
	out := []byte(r.Replace(string(raw)))
	if !json.Valid(out) {
		return nil, fmt.Errorf("render policy %s: result is not JSON", name)
	}
	return out, nil
}
