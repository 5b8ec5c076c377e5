// Package naming makes every name Slipway gives a resource: stack names,
// load balancer and target group names, image tags and preview host labels.
// Untrusted input (branch names, titles) never decides a name by itself: it
// is reduced to a short slug and always paired with a hash of the full input,
// and every output is checked against the AWS limits before it is returned.
package naming

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Limits from the AWS API references.
const (
	MaxStackName = 128 // CloudFormation: [A-Za-z][-A-Za-z0-9]*, up to 128
	MaxELBName   = 32  // ALB and target group names
	MaxHostLabel = 63  // one DNS label
	MaxApp       = 20  // keeps <app>-prod-<14>-<7> well inside every limit
	hashLen      = 6
)

var (
	appRe   = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	shaRe   = regexp.MustCompile(`^[0-9a-f]{7,40}$`)
	stackRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)
	elbRe   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`)
	labelRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
)

// scopeWords are the words that follow the app name in the stack names the
// IAM policies scope by prefix (<app>-pr-*, <app>-prod-*).
var scopeWords = []string{"pr", "prod"}

// ValidateApp checks an application name: lower-case letters, digits and
// single hyphens, starting with a letter, at most MaxApp characters. Two
// more rules keep one app out of another's names: no "-pr" or "-prod" word
// after the first (app "shop-pr"'s stacks shop-pr-… would fall in app
// shop's <app>-pr-* IAM scope, "shop-prod"'s in its production scope), and
// no "internal" first word (the shared load balancer <app>-shared may not
// be named internal-…, and neither may target groups).
func ValidateApp(app string) error {
	if len(app) == 0 || len(app) > MaxApp || !appRe.MatchString(app) {
		return fmt.Errorf("invalid app name %q: use 1-%d lower-case letters, digits and single hyphens, starting with a letter (set SLIPWAY_APP)", app, MaxApp)
	}
	words := strings.Split(app, "-")
	if words[0] == "internal" {
		return fmt.Errorf("invalid app name %q: its load balancer would be named %s-shared, and AWS refuses load balancer names that start with \"internal-\"; set SLIPWAY_APP to a name whose first word is not \"internal\"", app, app)
	}
	for i, w := range words[1:] {
		for _, sw := range scopeWords {
			if w == sw {
				owner := strings.Join(words[:i+1], "-")
				return fmt.Errorf("invalid app name %q: its stacks (%s-…) would fall in app %s's %s-%s-* stacks, which its IAM roles may change; set SLIPWAY_APP to a name without a \"-%s\" word", app, app, owner, owner, sw, sw)
			}
		}
	}
	return nil
}

// ShortCommit shortens a commit id for people to read: its first seven
// characters (what git and `status` show), or all of it when shorter. It is
// the one short form everywhere (logs, status, GitHub); ShortSHA also checks
// that the id is a SHA, for names.
func ShortCommit(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// ShortSHA returns the first seven characters of a hex commit SHA.
func ShortSHA(sha string) (string, error) {
	s := strings.ToLower(sha)
	if !shaRe.MatchString(s) {
		return "", fmt.Errorf("invalid commit %q: want 7 to 40 hex characters (a git SHA)", sha)
	}
	return s[:7], nil
}

// Shared is the name of the permanent shared stack.
func Shared(app string) (string, error) {
	if err := ValidateApp(app); err != nil {
		return "", err
	}
	return app + "-shared", nil
}

// Preview is the stack name of a pull request's preview environment.
func Preview(app string, pr int) (string, error) {
	if err := ValidateApp(app); err != nil {
		return "", err
	}
	if pr <= 0 {
		return "", fmt.Errorf("invalid pull request number %d: want a positive number", pr)
	}
	return fmt.Sprintf("%s-pr-%d", app, pr), nil
}

// PreviewHost is the host label of a pull request's preview URL, e.g. "pr-42".
func PreviewHost(pr int) (string, error) {
	if pr <= 0 {
		return "", fmt.Errorf("invalid pull request number %d: want a positive number", pr)
	}
	return fmt.Sprintf("pr-%d", pr), nil
}

// BranchPreview is the stack name and host label of a branch that has no
// pull request yet (deployed from a laptop): a short slug of the branch plus
// a hash of the full branch name, so two branches never share a name.
func BranchPreview(app, branch string) (stack, host string, err error) {
	if err := ValidateApp(app); err != nil {
		return "", "", err
	}
	if strings.TrimSpace(branch) == "" {
		return "", "", fmt.Errorf("empty branch name: check out a branch or pass a pull request number")
	}
	label := "br-" + Slug(branch, 16) + "-" + Hash(branch)
	label = strings.ReplaceAll(label, "--", "-")
	return app + "-" + label, label, nil
}

// Release is the stack name of a production release:
// <app>-prod-<UTC yyyymmddhhmmss>-<sha7>.
func Release(app string, at time.Time, sha string) (string, error) {
	if err := ValidateApp(app); err != nil {
		return "", err
	}
	s7, err := ShortSHA(sha)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-prod-%s-%s", app, at.UTC().Format("20060102150405"), s7), nil
}

// ELB shortens a stack name into an ALB or target group name: at most 32
// letters, digits and hyphens, no leading or trailing hyphen; when it must be
// truncated, a hash of the full name keeps it stable and distinct.
func ELB(name string) string {
	clean := Slug(name, len(name)+1)
	if clean == "" || strings.HasPrefix(clean, "internal-") {
		clean = "x-" + clean // ALB names may not start with "internal-"
	}
	if len(clean) <= MaxELBName && clean == strings.ToLower(name) {
		return clean
	}
	if len(clean) <= MaxELBName-hashLen-1 {
		return clean + "-" + Hash(name)
	}
	prefix := strings.TrimRight(clean[:MaxELBName-hashLen-1], "-")
	return prefix + "-" + Hash(name)
}

// Hash is a short stable hex hash of s.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:hashLen]
}

// Slug reduces s to at most max lower-case letters, digits and single
// hyphens, with no leading or trailing hyphen. It may return "".
func Slug(s string, max int) string {
	var b strings.Builder
	dash := false
loop:
	for _, r := range strings.ToLower(s) {
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= max {
			break loop
		}
	}
	out := b.String()
	if len(out) > max {
		out = out[:max]
	}
	return strings.Trim(out, "-")
}

// ValidStack reports whether name is a valid CloudFormation stack name.
func ValidStack(name string) bool {
	return len(name) <= MaxStackName && stackRe.MatchString(name)
}

// ValidELB reports whether name is a valid ALB or target group name.
func ValidELB(name string) bool {
	return len(name) <= MaxELBName && elbRe.MatchString(name) && !strings.HasPrefix(strings.ToLower(name), "internal-")
}

// ValidHostLabel reports whether label is a valid lower-case DNS label.
func ValidHostLabel(label string) bool {
	return len(label) <= MaxHostLabel && labelRe.MatchString(label)
}

// ImageTags returns the commit tag and the purpose tag (e.g. "pr-42",
// "release-20261125") for repo. An image built from a working tree with
// uncommitted changes gets the commit tag "<sha7>-dirty": it is never
// tagged as the clean commit.
func ImageTags(repo, sha, purpose string, dirty bool) ([]string, error) {
	c, err := CommitTag(sha, dirty)
	if err != nil {
		return nil, err
	}
	p, err := ImageTag(purpose)
	if err != nil {
		return nil, err
	}
	return []string{repo + ":" + c, repo + ":" + p}, nil
}

// CommitTag is the tag of an image built from commit sha: its seven-digit
// short form, with "-dirty" when built from uncommitted changes.
func CommitTag(sha string, dirty bool) (string, error) {
	s7, err := ShortSHA(sha)
	if err != nil {
		return "", err
	}
	if dirty {
		s7 += "-dirty"
	}
	return s7, nil
}

// PreviewImageTag is the tag of a preview's image: "pr-N" for a pull
// request, "branch-<hash of the branch>" for a branch without one. Deploy
// tags the image with it and destroy removes it.
func PreviewImageTag(pr int, branch string) (string, error) {
	if pr > 0 {
		return ImageTag(fmt.Sprintf("pr-%d", pr))
	}
	if strings.TrimSpace(branch) == "" {
		return "", fmt.Errorf("name a preview's image: no pull request number and no branch")
	}
	return ImageTag("branch-" + Hash(branch))
}

// ImageTag is the tag an image gets for purpose ("pr-42", "branch-1a2b3c",
// "release"): what a preview's image is found and removed by.
func ImageTag(purpose string) (string, error) {
	p := Slug(purpose, 100)
	if p == "" {
		return "", fmt.Errorf("invalid image purpose %q: want letters and digits such as pr-42", purpose)
	}
	return p, nil
}
