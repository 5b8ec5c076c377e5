package github

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/slipway/slipway/internal/gitrepo"
	"github.com/slipway/slipway/internal/naming"
)

// Detector finds out what a run is about. Its fields are the outside world;
// tests replace them. NewDetector fills them with the real ones.
type Detector struct {
	// Git runs git with an argument list in the current directory and
	// returns its trimmed standard output.
	Git func(ctx context.Context, args ...string) (string, error)
	// CurrentRepo returns the "owner/name" of the checkout's GitHub remote.
	CurrentRepo func() (string, error)
	// API returns a REST client; an error wrapping ErrNoAuth when there is
	// no token.
	API func(env func(string) string) (Requester, error)
	// ReadFile reads the event payload.
	ReadFile func(name string) ([]byte, error)
}

// NewDetector returns a Detector that runs git, asks go-gh for the
// repository and token, and reads files from disk.
func NewDetector() *Detector {
	return &Detector{
		Git:         runGit,
		CurrentRepo: currentRepo,
		API:         func(env func(string) string) (Requester, error) { return NewRESTClient(env) },
		ReadFile:    os.ReadFile,
	}
}

// Detect finds out what this run is about:
//   - in GitHub Actions, from $GITHUB_EVENT_PATH and the GITHUB_* variables;
//   - on a laptop, from the git checkout (branch, HEAD) and the open pull
//     request of that branch;
//   - from req.PR (the -pr flag), or else from $SLIPWAY_PR; that pull
//     request is looked up by number.
//
// req.Kind may name what the caller is about to do; Context.Action then
// checks that the event agrees. When GitHub cannot be asked (no token),
// Detect returns what git told it together with an error wrapping ErrNoAuth.
func Detect(ctx context.Context, env func(string) string, req Request) (Context, error) {
	return NewDetector().Detect(ctx, env, req)
}

// Detect is the package-level Detect with d's outside world.
func (d *Detector) Detect(ctx context.Context, env func(string) string, r Request) (Context, error) {
	if err := CheckPR(r.PR); r.PR != 0 && err != nil {
		return Context{}, err
	}
	req := request{pr: r.PR, kind: r.Kind}
	var err error
	if v := env("SLIPWAY_PR"); req.pr == 0 && v != "" {
		n, ok := prNumber(v)
		if !ok {
			return Context{}, fmt.Errorf("read SLIPWAY_PR: %q is not a pull request number", v)
		}
		req.pr = n
	}
	var c Context
	switch {
	case env("GITHUB_ACTIONS") == "true" && env("GITHUB_EVENT_PATH") != "":
		c, err = d.fromActions(env)
	case req.pr == 0:
		c, err = d.fromCheckout(ctx, env)
	}
	c.Requested = req.kind
	if err != nil || req.pr == 0 || req.pr == c.PR {
		return c, err
	}
	return d.fromPullNumber(ctx, env, c, req.pr)
}

func (d *Detector) fromActions(env func(string) string) (Context, error) {
	path := env("GITHUB_EVENT_PATH")
	data, err := d.ReadFile(path)
	if err != nil {
		return Context{}, fmt.Errorf("read event %s: %w", path, err)
	}
	return contextFromEvent(env("GITHUB_EVENT_NAME"), data, env)
}

func (d *Detector) fromCheckout(ctx context.Context, env func(string) string) (Context, error) {
	c := Context{Source: SourceCheckout}
	branch, err := d.Git(ctx, "rev-parse", "--abbrev-ref", "HEAD")
	if err != nil {
		return c, fmt.Errorf("detect the current branch: %w", err)
	}
	if branch != "HEAD" { // detached HEAD
		c.Branch = branch
	}
	if c.SHA, err = d.Git(ctx, "rev-parse", "HEAD"); err != nil {
		return c, fmt.Errorf("detect the HEAD commit: %w", err)
	}
	if c.Repo, err = repoOf(env, d.CurrentRepo); err != nil {
		return c, fmt.Errorf("detect the repository: %w", err)
	}
	if c.Branch == "" {
		return c, nil
	}
	return d.openPullRequest(ctx, env, c)
}

// openPullRequest adds the open pull request whose head is c.Branch in
// c.Repo; c is unchanged when there is none.
func (d *Detector) openPullRequest(ctx context.Context, env func(string) string, c Context) (Context, error) {
	fail := func(err error) (Context, error) {
		return c, fmt.Errorf("find the open pull request of branch %q in %s: %w", c.Branch, c.Repo, err)
	}
	client, err := d.API(env)
	if err != nil {
		return fail(err)
	}
	base, err := repoPath(c.Repo)
	if err != nil {
		return fail(err)
	}
	q := url.Values{"head": {c.Owner() + ":" + c.Branch}, "state": {"open"}, "per_page": {"100"}}
	var prs []pullRequest
	if _, err := call(ctx, client, http.MethodGet, base+"/pulls?"+q.Encode(), nil, &prs); err != nil {
		return fail(err)
	}
	if len(prs) == 0 {
		return c, nil
	}
	local := c.SHA
	c.applyPullRequest(&prs[0])
	if len(prs) > 1 {
		c.Notes = append(c.Notes, fmt.Sprintf("branch %q heads %d open pull requests; using #%d", c.Branch, len(prs), c.PR))
	}
	if local != "" && local != c.SHA {
		// What gets built is the checkout, so report that commit.
		c.Notes = append(c.Notes, fmt.Sprintf("local HEAD %s is not the head %s of pull request #%d (unpushed commits?): "+
			"push first, or GitHub cannot show a deployment or status for it", naming.ShortCommit(local), naming.ShortCommit(c.SHA), c.PR))
		c.SHA = local
	}
	return c, nil
}

// fromPullNumber fills c from pull request n, looked up by number.
func (d *Detector) fromPullNumber(ctx context.Context, env func(string) string, c Context, n int) (Context, error) {
	c.Source, c.PR = SourceArgs, n
	c.Actions = env("GITHUB_ACTIONS") == "true"
	fail := func(err error) (Context, error) {
		return c, fmt.Errorf("look up pull request #%d: %w", n, err)
	}
	if c.Repo == "" {
		repo, err := repoOf(env, d.CurrentRepo)
		if err != nil {
			return fail(err)
		}
		c.Repo = repo
	}
	base, err := repoPath(c.Repo)
	if err != nil {
		return fail(err)
	}
	client, err := d.API(env)
	if err != nil {
		return fail(err)
	}
	var pr pullRequest
	if _, err := call(ctx, client, http.MethodGet, fmt.Sprintf("%s/pulls/%d", base, n), nil, &pr); err != nil {
		return fail(err)
	}
	c.applyPullRequest(&pr)
	return c, nil
}

type request struct {
	pr   int
	kind Kind
}

// Request is what the caller asks about: a pull request by number (0:
// none given) and what it is about to do (0: not said).
type Request struct {
	Kind Kind
	PR   int
}

// CheckPR says what is wrong with a pull request number, or nil.
func CheckPR(n int) error {
	if n <= 0 || n > MaxPR {
		return fmt.Errorf("%d is not a pull request number (a whole number from 1 to %d, like 42)", n, MaxPR)
	}
	return nil
}

// ParseRequest reads a Request from words as a person types them: a
// pull request number ("42", "#42", "pr-42") and a verb ("deploy",
// "preview:destroy", "release", "cleanup").
func ParseRequest(args []string) (Request, error) {
	r, err := parseArgs(args)
	return Request{Kind: r.kind, PR: r.pr}, err
}

var verbs = map[string]Kind{
	"deploy": DeployPreview, "preview:deploy": DeployPreview,
	"destroy": DestroyPreview, "preview:destroy": DestroyPreview,
	"release": Release, "cleanup": Cleanup,
}

// parseArgs reads a pull request number and a verb from the command line.
func parseArgs(args []string) (request, error) {
	var r request
	for _, a := range args {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if k, ok := verbs[strings.ToLower(a)]; ok {
			r.kind = k
			continue
		}
		n, ok := prNumber(a)
		if !ok {
			return r, fmt.Errorf("parse arguments: %q is not a pull request number (like 42) or one of deploy, destroy, release, cleanup", a)
		}
		if r.pr != 0 && r.pr != n {
			return r, fmt.Errorf("parse arguments: two pull request numbers, %d and %d", r.pr, n)
		}
		r.pr = n
	}
	return r, nil
}

// MaxPR is the largest pull request number GitHub can give (its numbers
// are 32-bit).
const MaxPR = 1<<31 - 1

// ParsePR reads a pull request number as a user gives it ("42", "#42",
// "pr-42" or "-pr=42"), or says what is wrong with it.
func ParsePR(s string) (int, error) {
	n, ok := prNumber(s)
	if !ok {
		return 0, fmt.Errorf("%q is not a pull request number (a whole number from 1 to %d, like 42)", s, MaxPR)
	}
	return n, nil
}

// prNumber reads "42", "#42", "pr-42" or mage's flag form "-pr=42".
func prNumber(s string) (int, bool) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-pr="), "#")
	if len(s) > 3 && strings.EqualFold(s[:3], "pr-") {
		s = s[3:]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > MaxPR {
		return 0, false
	}
	return n, true
}

// runGit runs git in this process's directory.
func runGit(ctx context.Context, args ...string) (string, error) {
	return gitrepo.Run(ctx, "", args...)
}
