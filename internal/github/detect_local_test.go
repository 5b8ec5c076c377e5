package github

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

const prHeadSHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e" // head of PR 1347 in the REST fixtures

// laptopDetector answers git from a table and GitHub from the fake.
func laptopDetector(t *testing.T, f *fakeGitHub, git map[string]string) *Detector {
	return &Detector{
		Git: func(_ context.Context, args ...string) (string, error) {
			out, ok := git[strings.Join(args, " ")]
			if !ok {
				return "", fmt.Errorf("git %v: unexpected", args)
			}
			return out, nil
		},
		CurrentRepo: func() (string, error) { return "octocat/Hello-World", nil },
		API: func(func(string) string) (Requester, error) {
			if f == nil {
				return nil, fmt.Errorf("create GitHub client for github.com: %w", ErrNoAuth)
			}
			return f.client(t), nil
		},
		ReadFile: func(string) ([]byte, error) { t.Error("no event file on a laptop"); return nil, os.ErrNotExist },
	}
}

var laptop = envMap(map[string]string{"HOME": "/home/dev"})

func TestDetectOnALaptopFindsTheOpenPullRequestOfTheBranch(t *testing.T) {
	f := newFakeGitHub(t)
	d := laptopDetector(t, f, map[string]string{"rev-parse --abbrev-ref HEAD": "new-topic", "rev-parse HEAD": prHeadSHA})
	got, err := d.Detect(context.Background(), laptop, Request{})
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	if got.Source != SourceCheckout || got.PR != 1347 || got.Branch != "new-topic" || got.SHA != prHeadSHA || got.Actions {
		t.Errorf("Detect = %+v; want PR 1347 at %s from the checkout", got, prHeadSHA)
	}
	calls := f.callsTo("pulls/list")
	if len(calls) != 1 || calls[0].Query.Get("head") != "octocat:new-topic" || calls[0].Query.Get("state") != "open" {
		t.Fatalf("pulls/list calls = %+v; want one with head=octocat:new-topic&state=open", calls)
	}
	if d := got.Action(); d.Kind != DeployPreview {
		t.Errorf("Action() = %v; want deploy-preview", d)
	}
	if ok, _ := got.AWSDeployAllowed(); !ok {
		t.Error("a same-repository pull request must be allowed on AWS")
	}
}

func TestDetectOnALaptopReportsUnpushedCommits(t *testing.T) {
	f := newFakeGitHub(t)
	local := strings.Repeat("a", 40)
	d := laptopDetector(t, f, map[string]string{"rev-parse --abbrev-ref HEAD": "new-topic", "rev-parse HEAD": local})
	got, err := d.Detect(context.Background(), laptop, Request{})
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	if got.SHA != local || len(got.Notes) != 1 || !strings.Contains(got.Notes[0], "unpushed") {
		t.Errorf("Detect = SHA %s, notes %q; want the local HEAD and a note about unpushed commits", got.SHA, got.Notes)
	}
}

func TestDetectOnALaptopWithoutAPullRequestIgnoresWithAReason(t *testing.T) {
	f := newFakeGitHub(t)
	d := laptopDetector(t, f, map[string]string{"rev-parse --abbrev-ref HEAD": "lonely", "rev-parse HEAD": prHeadSHA})
	got, err := d.Detect(context.Background(), laptop, Request{})
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	dec := got.Action()
	if got.PR != 0 || dec.Kind != Ignore || !strings.Contains(dec.Reason, `"lonely"`) || !strings.Contains(dec.Reason, "preview:deploy -pr=42") {
		t.Errorf("Detect = PR %d, %v; want no PR and a reason naming the branch and the command", got.PR, dec)
	}
}

func TestDetectOnADetachedHeadAsksNoPullRequest(t *testing.T) {
	d := laptopDetector(t, nil, map[string]string{"rev-parse --abbrev-ref HEAD": "HEAD", "rev-parse HEAD": prHeadSHA})
	got, err := d.Detect(context.Background(), laptop, Request{})
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	if dec := got.Action(); got.Branch != "" || dec.Kind != Ignore || !strings.Contains(dec.Reason, "not on a branch") {
		t.Errorf("Detect = branch %q, %v; want an ignore about the detached HEAD", got.Branch, dec)
	}
}

func TestDetectWithoutATokenKeepsWhatGitSaid(t *testing.T) {
	d := laptopDetector(t, nil, map[string]string{"rev-parse --abbrev-ref HEAD": "new-topic", "rev-parse HEAD": prHeadSHA})
	got, err := d.Detect(context.Background(), laptop, Request{})
	if !errors.Is(err, ErrNoAuth) {
		t.Fatalf("Detect error = %v; want ErrNoAuth", err)
	}
	if got.Branch != "new-topic" || got.SHA != prHeadSHA || got.Repo != "octocat/Hello-World" {
		t.Errorf("Detect = %+v; want the git facts", got)
	}
}

func TestDetectLooksUpAPullRequestGivenByNumber(t *testing.T) {
	f := newFakeGitHub(t)
	d := laptopDetector(t, f, nil) // git must not run
	got, err := d.Detect(context.Background(), laptop, mustRequest(t, []string{"preview:destroy", "#1347"}))
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	if got.Source != SourceArgs || got.PR != 1347 || got.Branch != "new-topic" || got.SHA != prHeadSHA || !slices.Equal(got.Labels, []string{"bug"}) {
		t.Errorf("Detect = %+v; want PR 1347 from the REST answer", got)
	}
	if n := len(f.callsTo("pulls/get")); n != 1 {
		t.Errorf("pulls/get called %d times; want 1", n)
	}
	if dec := got.Action(); dec.Kind != DestroyPreview {
		t.Errorf("Action() = %v; want destroy-preview", dec)
	}
}

func TestDetectInAManualRunLooksUpTheGivenPullRequest(t *testing.T) {
	f := newFakeGitHub(t)
	d := laptopDetector(t, f, nil)
	d.ReadFile = os.ReadFile
	env := actionsEnv("workflow_dispatch", "workflow_dispatch.json", map[string]string{"GITHUB_REPOSITORY": "octo-org/octo-repo"})
	got, err := d.Detect(context.Background(), env, Request{PR: 1347})
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	if got.PR != 1347 || got.Event != "workflow_dispatch" || !got.Actions || got.Action().Kind != DeployPreview {
		t.Errorf("Detect = %+v, %v; want a deploy of PR 1347 in Actions", got, got.Action())
	}
	if calls := f.callsTo("pulls/get"); len(calls) != 1 || calls[0].Path != "/repos/octo-org/octo-repo/pulls/1347" {
		t.Errorf("pulls/get calls = %+v", calls)
	}
}

func TestAWSDeployAllowedOnlyForTheLabelledFork(t *testing.T) {
	fork := Context{Actions: true, Event: "pull_request", EventAction: "opened", PR: 217, Repo: "listendev/lstn",
		HeadRepo: "leodido/lstn", Fork: true, SHA: "5864e328f129b98726813940b5bfa44707963bdc"}
	tests := []struct {
		name   string
		change func(*Context)
		want   bool
		reason string
	}{
		{"the automatic workflow never deploys a fork", func(*Context) {}, false, "adding the label safe-to-deploy"},
		{"a deleted head repository counts as a fork", func(c *Context) { c.HeadRepo = "" }, false, "a deleted repository"},
		{"an ordinary label on pull_request_target is not approval", func(c *Context) {
			c.Event, c.EventAction, c.Label = "pull_request_target", "labeled", "bug"
		}, false, "fork"},
		{"the maintainer's label on pull_request_target is", func(c *Context) {
			c.Event, c.EventAction, c.Label = "pull_request_target", "labeled", SafeToDeployLabel
		}, true, "5864e32"},
		{"Dependabot gets no credentials either", func(c *Context) {
			c.Fork, c.HeadRepo, c.Actor = false, c.Repo, "dependabot[bot]"
		}, false, "Dependabot"},
		{"a laptop is an explicit choice", func(c *Context) { c.Actions = false }, true, "explicit choice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fork
			tt.change(&c)
			ok, why := c.AWSDeployAllowed()
			if ok != tt.want || !strings.Contains(why, tt.reason) {
				t.Errorf("AWSDeployAllowed() = %v, %q; want %v mentioning %q", ok, why, tt.want, tt.reason)
			}
		})
	}
}

func TestDetectTakesThePullRequestFromSLIPWAY_PR(t *testing.T) {
	f := newFakeGitHub(t)
	d := laptopDetector(t, f, nil)
	got, err := d.Detect(context.Background(), envMap(map[string]string{"SLIPWAY_PR": "1347"}), Request{})
	if err != nil || got.PR != 1347 || got.Source != SourceArgs {
		t.Errorf("Detect = %+v, %v; want PR 1347 looked up", got, err)
	}
	if _, err := d.Detect(context.Background(), envMap(map[string]string{"SLIPWAY_PR": "x"}), Request{}); err == nil {
		t.Error("Detect accepted SLIPWAY_PR=x")
	}
}
