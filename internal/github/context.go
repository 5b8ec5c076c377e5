package github

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slipway/slipway/internal/naming"
)

// SafeToDeployLabel is the label a maintainer adds to a pull request from a
// fork to deploy its reviewed head commit to AWS (workflow preview-fork.yml).
const SafeToDeployLabel = "safe-to-deploy"

// Source says where Detect found the pull request and commit.
type Source string

const (
	// SourceEvent: the GitHub Actions event payload ($GITHUB_EVENT_PATH).
	SourceEvent Source = "event"
	// SourceCheckout: the local git checkout and its open pull request.
	SourceCheckout Source = "checkout"
	// SourceArgs: a pull request number given on the command line.
	SourceArgs Source = "args"
)

// Kind is what a run should do.
type Kind string

const (
	Ignore         Kind = "ignore"
	DeployPreview  Kind = "deploy-preview"
	DestroyPreview Kind = "destroy-preview"
	Release        Kind = "release"
	Cleanup        Kind = "cleanup"
)

// Decision is the outcome of Context.Action: what to do and why.
type Decision struct {
	Kind   Kind
	Reason string
}

func (d Decision) String() string { return string(d.Kind) + ": " + d.Reason }

// Context is what a run is about: the event that triggered it and the pull
// request or commit it concerns.
type Context struct {
	Source  Source
	Actions bool // running inside GitHub Actions

	Event       string // GitHub event name (pull_request, push, ...); "" outside Actions
	EventAction string // the payload's action (opened, closed, labeled, ...)

	Repo          string // base repository, "owner/name"
	HeadRepo      string // head repository of the pull request, "owner/name"; "" if deleted
	DefaultBranch string

	PR     int
	State  string // pull request state: open or closed
	Branch string // pull request head branch, or the pushed branch
	Base   string // pull request base branch
	SHA    string // head commit
	Ref    string // full git ref of a push, dispatch or schedule

	Fork             bool // head repository differs from the base repository
	Merged           bool // a closed pull request was merged
	Created, Deleted bool // a push created or deleted Ref
	Labels           []string
	Label            string // the label just added (labeled events)
	Actor            string
	Inputs           map[string]string // workflow_dispatch inputs

	RunURL    string   // the Actions run, for log links
	Requested Kind     // what the command line asked for ("destroy", "release", ...)
	Notes     []string // things worth telling the user, e.g. unpushed commits
}

// Owner is the owner of the base repository.
func (c Context) Owner() string { o, _, _ := strings.Cut(c.Repo, "/"); return o }

// Name is the name of the base repository.
func (c Context) Name() string { _, n, _ := strings.Cut(c.Repo, "/"); return n }

// Environment is the GitHub deployment environment of the pull request's
// preview, "pr-<N>".
func (c Context) Environment() string { return PreviewEnvironment(c.PR) }

// PreviewEnvironment names the deployment environment of pull request pr.
func PreviewEnvironment(pr int) string { return "pr-" + strconv.Itoa(pr) }

// Action decides what the run should do. With no Requested kind it follows
// the event (in Actions) or deploys the preview of the detected pull request
// (on a laptop). With a Requested kind it confirms that the event agrees and
// ignores the run, with the reason, when it does not.
func (c Context) Action() Decision {
	var d Decision
	if c.Source == SourceEvent {
		d = c.eventDecision()
	} else {
		d = c.manualDecision(DeployPreview)
	}
	if c.Requested == "" || c.Requested == d.Kind {
		return d
	}
	if c.Source != SourceEvent || c.Event == "workflow_dispatch" {
		return c.manualDecision(c.Requested)
	}
	if d.Kind == Ignore {
		return d
	}
	return ignore("%s was requested, but event %s asks for %s (%s)", c.Requested, c.Event, d.Kind, d.Reason)
}

// manualDecision is the decision for an explicit command.
func (c Context) manualDecision(k Kind) Decision {
	if (k == DeployPreview || k == DestroyPreview) && c.PR == 0 {
		if c.Branch == "" {
			return ignore("no pull request: HEAD is not on a branch; pass a pull request number, e.g. `go run mage.go preview:deploy -pr=42`")
		}
		return ignore("no open pull request for branch %q in %s; open one, or pass its number, e.g. `go run mage.go preview:deploy -pr=42`", c.Branch, c.Repo)
	}
	if k == DeployPreview && c.State == "closed" {
		return ignore("pull request #%d is closed; reopen it to deploy a preview", c.PR)
	}
	switch k {
	case DeployPreview:
		return Decision{k, fmt.Sprintf("deploy the preview of pull request #%d", c.PR)}
	case DestroyPreview:
		return Decision{k, fmt.Sprintf("destroy the preview of pull request #%d", c.PR)}
	}
	return Decision{k, "requested on the command line"}
}

// eventDecision is the decision the GitHub event asks for.
func (c Context) eventDecision() Decision {
	switch c.Event {
	case "pull_request", "pull_request_target":
		return c.pullRequestDecision()
	case "push":
		return c.pushDecision()
	case "schedule":
		return Decision{Cleanup, "scheduled run: remove previews whose pull request is closed"}
	case "workflow_dispatch":
		return ignore("manual run (workflow_dispatch) with nothing requested: pass a pull request number or a target")
	}
	return ignore("event %q does not concern previews or releases", c.Event)
}

func (c Context) pullRequestDecision() Decision {
	switch c.EventAction {
	case "opened", "synchronize", "reopened":
		return Decision{DeployPreview, fmt.Sprintf("pull request #%d was %s", c.PR, c.EventAction)}
	case "closed":
		if c.Merged {
			return Decision{DestroyPreview, fmt.Sprintf("pull request #%d was merged", c.PR)}
		}
		return Decision{DestroyPreview, fmt.Sprintf("pull request #%d was closed without merging", c.PR)}
	case "labeled":
		if c.Label == SafeToDeployLabel {
			return Decision{DeployPreview, fmt.Sprintf("a maintainer labelled pull request #%d %s", c.PR, SafeToDeployLabel)}
		}
		return ignore("label %q does not trigger a preview (only %q does)", c.Label, SafeToDeployLabel)
	}
	return ignore("pull request action %q does not change the preview", c.EventAction)
}

func (c Context) pushDecision() Decision {
	switch {
	case c.Deleted:
		return ignore("push deleted %s: nothing to deploy", c.Ref)
	case strings.HasPrefix(c.Ref, "refs/tags/"):
		return ignore("push of tag %s: releases follow the default branch, not tags", c.Ref)
	case c.Branch != "" && c.Branch == c.DefaultBranch:
		return Decision{Release, fmt.Sprintf("push to the default branch %s", c.Branch)}
	}
	return ignore("push to %s, not the default branch %s: previews come from pull requests", c.Ref, c.DefaultBranch)
}

func ignore(format string, args ...any) Decision {
	return Decision{Ignore, fmt.Sprintf(format, args...)}
}

// AWSDeployAllowed reports whether this run may deploy to AWS, and why. In
// GitHub Actions a pull request from a fork (or from Dependabot, which runs
// without secrets) never gets an AWS deploy from the automatic workflow: it
// is checked on the runner with the local target instead. The exception is
// the maintainer path: a pull_request_target run for the safe-to-deploy
// label, which deploys the labelled head commit built without credentials.
func (c Context) AWSDeployAllowed() (bool, string) {
	if c.PR == 0 {
		return true, "not a pull request"
	}
	if c.Actions && c.Event == "pull_request_target" && c.EventAction == "labeled" && c.Label == SafeToDeployLabel {
		return true, fmt.Sprintf("a maintainer labelled pull request #%d %s at head %s", c.PR, SafeToDeployLabel, naming.ShortCommit(c.SHA))
	}
	if c.Actions && c.Event == "pull_request" && c.Actor == "dependabot[bot]" {
		return false, fmt.Sprintf("pull request #%d is from Dependabot, whose runs get no secrets or AWS credentials: "+
			"it is checked on the runner with the local target instead", c.PR)
	}
	if !c.Fork {
		return true, fmt.Sprintf("pull request #%d comes from %s itself", c.PR, c.Repo)
	}
	head := c.HeadRepo
	if head == "" {
		head = "a deleted repository"
	}
	if !c.Actions {
		return true, fmt.Sprintf("pull request #%d comes from the fork %s: deploying it from this machine is your explicit choice; review its code first", c.PR, head)
	}
	return false, fmt.Sprintf("pull request #%d comes from the fork %s, not %s: the automatic workflow never deploys a fork to AWS; "+
		"it is checked on the runner with the local target instead. A maintainer can deploy the reviewed head %s to AWS "+
		"by adding the label %s (workflow preview-fork.yml)", c.PR, head, c.Repo, naming.ShortCommit(c.SHA), SafeToDeployLabel)
}
