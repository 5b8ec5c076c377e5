package github

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// actionsEnv is the environment of a GitHub Actions run of event name with
// the payload testdata/events/file.
func actionsEnv(name, file string, extra map[string]string) func(string) string {
	m := map[string]string{
		"GITHUB_ACTIONS":    "true",
		"GITHUB_EVENT_NAME": name,
		"GITHUB_EVENT_PATH": filepath.Join("testdata", "events", file),
	}
	for k, v := range extra {
		m[k] = v
	}
	return envMap(m)
}

// offlineDetector is a Detector that fails the test if it touches git or
// the network.
func offlineDetector(t *testing.T) *Detector {
	return &Detector{
		Git: func(context.Context, ...string) (string, error) {
			t.Error("git must not run in GitHub Actions")
			return "", errors.New("no git")
		},
		CurrentRepo: func() (string, error) { t.Error("no repository lookup expected"); return "", errors.New("no repo") },
		API: func(func(string) string) (Requester, error) {
			t.Error("no REST call expected")
			return nil, ErrNoAuth
		},
		ReadFile: os.ReadFile,
	}
}

// eventCase is one event fixture and what Detect must make of it.
type eventCase struct {
	name, event, file string
	env               map[string]string
	args              []string
	mutate            func(*Context) // from the base context to the expected one
	base              Context
	kind              Kind
	reason            string // part of the decision's reason
	aws               bool
}

const (
	hello    = "Codertocat/Hello-World"
	sandbox  = "re-organization-sandbox/sandbox-repo"
	helloSHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
)

func helloPR(action, state string) Context {
	return Context{Source: SourceEvent, Actions: true, Event: "pull_request", EventAction: action, Repo: hello,
		HeadRepo: hello, DefaultBranch: "master", PR: 2, State: state, Branch: "changes", Base: "master",
		SHA: helloSHA, Labels: []string{"bug"}, Actor: "Codertocat"}
}

// pullRequestCases covers every pull_request fixture.
func pullRequestCases() []eventCase {
	return []eventCase{
		{name: "an opened pull request deploys its preview", event: "pull_request", file: "pull_request.opened.json",
			base: helloPR("opened", "open"), kind: DeployPreview, reason: "#2 was opened", aws: true},
		{name: "a push to a pull request redeploys", event: "pull_request", file: "pull_request.synchronize.json",
			base: helloPR("synchronize", "open"), kind: DeployPreview, reason: "synchronize", aws: true},
		{name: "a reopened pull request deploys again", event: "pull_request", file: "pull_request.reopened.json",
			base: helloPR("reopened", "open"), kind: DeployPreview, reason: "reopened", aws: true},
		{name: "a pull request closed without merging is destroyed", event: "pull_request", file: "pull_request.closed.unmerged.json",
			base: helloPR("closed", "closed"), kind: DestroyPreview, reason: "without merging", aws: true},
		{name: "a merged pull request is destroyed", event: "pull_request", file: "pull_request.closed.merged.json",
			base: Context{Source: SourceEvent, Actions: true, Event: "pull_request", EventAction: "closed", Repo: sandbox,
				HeadRepo: sandbox, DefaultBranch: "main", PR: 1, State: "closed", Branch: "demo-pr-branch", Base: "main",
				SHA: "89462e99757bf27ad9eb02daac2107065a7c7d6b", Merged: true, Actor: "SkPhilipp"},
			kind: DestroyPreview, reason: "#1 was merged", aws: true},
		{name: "an ordinary label is ignored", event: "pull_request", file: "pull_request.labeled.json",
			base: helloPR("labeled", "open"), mutate: func(c *Context) { c.Label = "bug" },
			kind: Ignore, reason: `label "bug" does not trigger`, aws: true},
		{name: "a pull request from a fork deploys, but never to AWS", event: "pull_request", file: "pull_request.opened.fork.json",
			base: Context{Source: SourceEvent, Actions: true, Event: "pull_request", EventAction: "opened", Repo: "listendev/lstn",
				HeadRepo: "leodido/lstn", DefaultBranch: "main", PR: 217, State: "open", Branch: "build/pkg", Base: "main",
				SHA: "5864e328f129b98726813940b5bfa44707963bdc", Fork: true, Actor: "leodido"},
			kind: DeployPreview, reason: "#217 was opened", aws: false},
	}
}

// otherEventCases covers the push, schedule and workflow_dispatch fixtures,
// and the verbs a caller can pass.
func otherEventCases() []eventCase {
	return []eventCase{
		{name: "a push to the default branch is released", event: "push", file: "push.default-branch.json",
			base: Context{Source: SourceEvent, Actions: true, Event: "push", Repo: sandbox, DefaultBranch: "main",
				Branch: "main", Ref: "refs/heads/main", SHA: "f02c2442f9cbc6fc5a14576dfeba6585adb43dd3", Actor: "SkPhilipp"},
			kind: Release, reason: "default branch main", aws: true},
		{name: "the first push of the default branch is released", event: "push", file: "push.default-branch.created.json",
			base: Context{Source: SourceEvent, Actions: true, Event: "push", Repo: hello, DefaultBranch: "master",
				Branch: "master", Ref: "refs/heads/master", SHA: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", Created: true, Actor: "Codertocat"},
			kind: Release, reason: "default branch master", aws: true},
		{name: "a deleted tag is ignored, with the reason", event: "push", file: "push.tag-deleted.json",
			base: Context{Source: SourceEvent, Actions: true, Event: "push", Repo: hello, DefaultBranch: "master",
				Ref: "refs/tags/simple-tag", SHA: "0000000000000000000000000000000000000000", Deleted: true, Actor: "Codertocat"},
			kind: Ignore, reason: "push deleted refs/tags/simple-tag", aws: true},
		{name: "a scheduled run cleans up", event: "schedule", file: "schedule.json",
			env: map[string]string{"GITHUB_SHA": "f02c2442f9cbc6fc5a14576dfeba6585adb43dd3", "GITHUB_REF": "refs/heads/main"},
			base: Context{Source: SourceEvent, Actions: true, Event: "schedule", Repo: sandbox, DefaultBranch: "main",
				Branch: "main", Ref: "refs/heads/main", SHA: "f02c2442f9cbc6fc5a14576dfeba6585adb43dd3"},
			kind: Cleanup, reason: "scheduled", aws: true},
		{name: "a manual run with nothing requested is ignored", event: "workflow_dispatch", file: "workflow_dispatch.json",
			env:  map[string]string{"GITHUB_SHA": "6113728f27ae82c7b1a177c8d03f9e96e0adf246"},
			base: dispatchContext(), kind: Ignore, reason: "workflow_dispatch", aws: true},
		{name: "a manual run asked to release releases", event: "workflow_dispatch", file: "workflow_dispatch.json",
			env: map[string]string{"GITHUB_SHA": "6113728f27ae82c7b1a177c8d03f9e96e0adf246"}, args: []string{"release"},
			base: dispatchContext(), mutate: func(c *Context) { c.Requested = Release }, kind: Release, aws: true},
		{name: "a destroy requested on an opened pull request is ignored", event: "pull_request", file: "pull_request.opened.json",
			args: []string{"preview:destroy"}, base: helloPR("opened", "open"), mutate: func(c *Context) { c.Requested = DestroyPreview },
			kind: Ignore, reason: "destroy-preview was requested", aws: true},
		{name: "the event's own pull request number needs no lookup", event: "pull_request", file: "pull_request.closed.unmerged.json",
			args: []string{"destroy", "2"}, base: helloPR("closed", "closed"), mutate: func(c *Context) { c.Requested = DestroyPreview },
			kind: DestroyPreview, aws: true},
	}
}

func TestDetectEveryEventFixture(t *testing.T) {
	tests := append(pullRequestCases(), otherEventCases()...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := offlineDetector(t).Detect(context.Background(), actionsEnv(tt.event, tt.file, tt.env), mustRequest(t, tt.args))
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			want := tt.base
			if tt.mutate != nil {
				tt.mutate(&want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Detect:\n got %+v\nwant %+v", got, want)
			}
			d := got.Action()
			if d.Kind != tt.kind || !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("Action() = %v; want %s with %q in the reason", d, tt.kind, tt.reason)
			}
			if ok, why := got.AWSDeployAllowed(); ok != tt.aws || why == "" {
				t.Errorf("AWSDeployAllowed() = %v, %q; want %v with a reason", ok, why, tt.aws)
			}
		})
	}
}

func dispatchContext() Context {
	return Context{Source: SourceEvent, Actions: true, Event: "workflow_dispatch", Repo: "octo-org/octo-repo",
		DefaultBranch: "master", Branch: "master", Ref: "refs/heads/master", SHA: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
		Actor: "Codertocat", Inputs: map[string]string{"name": "Mona the Octocat"}}
}

func TestDetectReadsTheRunFromTheEnvironment(t *testing.T) {
	env := actionsEnv("pull_request", "pull_request.opened.json", map[string]string{
		"GITHUB_ACTOR": "octocat", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "Codertocat/Hello-World",
		"GITHUB_RUN_ID": "123", "GITHUB_RUN_ATTEMPT": "2",
	})
	got, err := offlineDetector(t).Detect(context.Background(), env, Request{})
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	if got.Actor != "octocat" {
		t.Errorf("Actor = %q; GITHUB_ACTOR comes before the payload's sender", got.Actor)
	}
	if want := "https://github.com/Codertocat/Hello-World/actions/runs/123/attempts/2"; got.RunURL != want {
		t.Errorf("RunURL = %q; want %q", got.RunURL, want)
	}
	if got.Owner() != "Codertocat" || got.Name() != "Hello-World" || got.Environment() != "pr-2" {
		t.Errorf("Owner, Name, Environment = %q, %q, %q", got.Owner(), got.Name(), got.Environment())
	}
}

func TestDetectRejectsBrokenInput(t *testing.T) {
	tests := []struct {
		name string
		env  func(string) string
		args []string
		want string
	}{
		{"a payload that is not JSON", actionsEnv("push", "../rest/SOURCES.md", nil), nil, "read event push"},
		{"a missing payload file", actionsEnv("push", "nope.json", nil), nil, "read event"},
		{"no event name", actionsEnv("", "push.default-branch.json", nil), nil, "GITHUB_EVENT_NAME is empty"},
		{"a pull_request event without a pull request", actionsEnv("pull_request", "push.default-branch.json", nil), nil, "no pull_request"},
		{"an argument that is no number", actionsEnv("push", "push.default-branch.json", nil), []string{"$(touch /tmp/x)"}, "not a pull request number"},
		{"two pull request numbers", actionsEnv("push", "push.default-branch.json", nil), []string{"1", "#2"}, "two pull request numbers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := offlineDetector(t)
			r, err := ParseRequest(tt.args)
			if err == nil {
				_, err = d.Detect(context.Background(), tt.env, r)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Detect error = %v; want it to mention %q", err, tt.want)
			}
		})
	}
	for _, n := range []int{-3, MaxPR + 1} {
		if _, err := offlineDetector(t).Detect(context.Background(), actionsEnv("push", "push.default-branch.json", nil), Request{PR: n}); err == nil || !strings.Contains(err.Error(), "is not a pull request number") {
			t.Errorf("Detect of pull request %d: %v, want a refusal", n, err)
		}
	}
}

func TestParseArgsAcceptsPullRequestSpellings(t *testing.T) {
	for _, in := range []string{"42", "#42", "pr-42", "PR-42", " 42 ", "-pr=42"} {
		r, err := parseArgs([]string{"", in})
		if err != nil || r.pr != 42 {
			t.Errorf("parseArgs(%q) = %+v, %v; want pr 42", in, r, err)
		}
	}
	for _, in := range []string{"0", "-1", "4x", "pr-", "99999999999"} {
		if _, err := parseArgs([]string{in}); err == nil {
			t.Errorf("parseArgs(%q) accepted it", in)
		}
	}
}

func TestDetectTheMaintainersLabelOnAFork(t *testing.T) {
	var payload map[string]any
	if err := json.Unmarshal(readTestdata(t, "events/pull_request.opened.fork.json"), &payload); err != nil {
		t.Fatal(err)
	}
	payload["action"] = "labeled"
	payload["label"] = map[string]any{"name": SafeToDeployLabel}
	data, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	env := envMap(map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_EVENT_PATH": path})
	got, err := offlineDetector(t).Detect(context.Background(), env, Request{})
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	if d := got.Action(); d.Kind != DeployPreview || !got.Fork {
		t.Errorf("Action() = %v, fork %v; want a deploy of the fork", d, got.Fork)
	}
	if ok, why := got.AWSDeployAllowed(); !ok || !strings.Contains(why, "5864e32") {
		t.Errorf("AWSDeployAllowed() = %v, %q; want allowed for the labelled head", ok, why)
	}
}
