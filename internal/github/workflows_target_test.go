package github

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// justifiedTargets are the workflows allowed pull_request_target, each with
// the tests that prove it never runs the pull request's code where secrets,
// OIDC or a write token are, and takes nothing from the event a shell could
// run. A new one needs such tests first, then a row here.
var justifiedTargets = map[string]string{
	"preview-database.yml": "TestPreviewDatabaseWorkflowRunsNoPullRequestCode, TestPullRequestTargetJobsTakeOnlyTheNumberAndTheSHA",
	"preview-fork.yml":     "TestForkBuildJobHasNothingToSteal, TestForkWorkflowRunsTheForksCodeInTheBuildJobOnly, TestPullRequestTargetJobsTakeOnlyTheNumberAndTheSHA",
}

// dangerousTriggers are the triggers zizmor's dangerous-triggers audit
// reports: they run the base repository's workflow, with its secrets, for
// events anyone can cause.
var dangerousTriggers = []string{"pull_request_target", "workflow_run"}

// ignoreComment is zizmor's ignore comment with a reason of a few words.
var ignoreComment = regexp.MustCompile(`^# zizmor: ignore\[dangerous-triggers\] \S+( \S+){3,}`)

// triggerKeys returns the keys under `on:` of a workflow.
func triggerKeys(data []byte) ([]*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("not a mapping")
	}
	top := doc.Content[0].Content
	for i := 0; i+1 < len(top); i += 2 {
		if top[i].Value == "on" && top[i+1].Kind == yaml.MappingNode {
			var keys []*yaml.Node
			for j := 0; j < len(top[i+1].Content); j += 2 {
				keys = append(keys, top[i+1].Content[j])
			}
			return keys, nil
		}
	}
	return nil, nil
}

// Every dangerous trigger is one of the justified ones, and carries zizmor's
// ignore comment on its own line (where zizmor reads it) with the reason.
func TestPullRequestTargetWorkflowsAreJustified(t *testing.T) {
	workflows, _ := workflowFiles(t, moduleRoot(t))
	seen := map[string]bool{}
	for _, f := range workflows {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := triggerKeys(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, k := range keys {
			if !slices.Contains(dangerousTriggers, k.Value) {
				continue
			}
			name := filepath.Base(f)
			seen[name] = true
			if _, ok := justifiedTargets[name]; !ok {
				t.Errorf("%s:%d: %s without tests that prove it never runs the pull request's code; write them, then add the file to justifiedTargets", name, k.Line, k.Value)
			}
			if !ignoreComment.MatchString(k.LineComment) {
				t.Errorf("%s:%d: %s has comment %q; want `# zizmor: ignore[dangerous-triggers] <why, in words>` on that line", name, k.Line, k.Value, k.LineComment)
			}
		}
	}
	for name := range justifiedTargets {
		if !seen[name] {
			t.Errorf("justifiedTargets holds %s, which has no dangerous trigger any more: remove the row", name)
		}
	}
}

// eventInputs finds what a workflow takes from the event, outside if:
// conditions (which the runner evaluates and no shell sees): every
// github.event.* and github.head_ref in a ${{ }} expression, with the key
// it is the value of.
func eventInputs(name string, data []byte) ([]string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	expr := regexp.MustCompile(`\$\{\{(.*?)\}\}`)
	ref := regexp.MustCompile(`github\.event\.[A-Za-z0-9_.*]+|github\.head_ref`)
	var found []string
	var walk func(key string, n *yaml.Node)
	walk = func(key string, n *yaml.Node) {
		switch n.Kind {
		case yaml.ScalarNode:
			for _, e := range expr.FindAllStringSubmatch(n.Value, -1) {
				for _, r := range ref.FindAllString(e[1], -1) {
					found = append(found, fmt.Sprintf("%s:%d: %s: %s", name, n.Line, key, r))
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k := n.Content[i].Value; k != "if" {
					walk(k, n.Content[i+1])
				}
			}
		default:
			for _, c := range n.Content {
				walk(key, c)
			}
		}
	}
	walk("", &doc)
	return found, nil
}

// safeInputs are the only event values a pull_request_target job may use
// outside its conditions: numbers and a commit SHA, which cannot carry
// shell syntax, and the fork's name only as the checkout's repository
// input (a name GitHub restricts to letters, digits, '-', '_' and '.').
var safeInputs = regexp.MustCompile(`: (\w+: github\.event\.pull_request\.(number|head\.sha)|repository: github\.event\.pull_request\.head\.repo\.full_name)$`)

func TestPullRequestTargetJobsTakeOnlyTheNumberAndTheSHA(t *testing.T) {
	dir := filepath.Join(moduleRoot(t), ".github/workflows")
	for name := range justifiedTargets {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		found, err := eventInputs(name, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range found {
			if !safeInputs.MatchString(in) {
				t.Errorf("%s: text the pull request's author controls, in a pull_request_target workflow; use the number or the SHA", in)
			}
		}
	}
}

func TestEventInputCheckCatchesPullRequestText(t *testing.T) {
	doc := []byte(`jobs:
  x:
    if: github.event.label.name == 'safe-to-deploy' && github.event.pull_request.head.repo.full_name != github.repository
    env:
      N: ${{ github.event.pull_request.number }}
      TITLE: ${{ github.event.pull_request.title }}
      BRANCH: ${{ github.head_ref }}
    steps:
      - uses: actions/checkout@x
        with:
          repository: ${{ github.event.pull_request.head.repo.full_name }}
          ref: ${{ github.event.pull_request.head.ref }}
      - env:
          OWNER: ${{ github.event.pull_request.head.repo.full_name }}
          LABEL: "${{ github.event.label.name }}"
          SHA: ${{ github.event.pull_request.head.sha }}
        run: echo "$OWNER"
`)
	found, err := eventInputs("bad.yml", doc)
	if err != nil {
		t.Fatal(err)
	}
	var refused []string
	for _, in := range found {
		if !safeInputs.MatchString(in) {
			refused = append(refused, in)
		}
	}
	want := []string{
		"bad.yml:6: TITLE: github.event.pull_request.title",
		"bad.yml:7: BRANCH: github.head_ref",
		"bad.yml:12: ref: github.event.pull_request.head.ref",
		"bad.yml:14: OWNER: github.event.pull_request.head.repo.full_name",
		"bad.yml:15: LABEL: github.event.label.name",
	}
	if !slices.Equal(refused, want) {
		t.Errorf("refused\n%s\nwant\n%s", strings.Join(refused, "\n"), strings.Join(want, "\n"))
	}
}

// forkJob is what the fork workflow's checks read of a job.
type forkJob struct {
	If          string            `yaml:"if"`
	Environment any               `yaml:"environment"`
	Permissions map[string]string `yaml:"permissions"`
	Steps       []struct {
		Uses string            `yaml:"uses"`
		With map[string]string `yaml:"with"`
	} `yaml:"steps"`
}

// The fork's code runs in `build` only: on a maintainer's label of an open
// fork pull request, at the labelled commit, with a read-only token and no
// environment. Every other job checks out the base branch (no ref, no
// repository), keeps no credentials on disk, unpacks the fork's archive
// outside the checkout (so it cannot replace a local action before it
// runs), and has exactly the permissions it uses.
func TestForkWorkflowRunsTheForksCodeInTheBuildJobOnly(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(moduleRoot(t), ".github/workflows/preview-fork.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		Jobs map[string]forkJob `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &w); err != nil {
		t.Fatal(err)
	}
	perms := map[string]map[string]string{
		"build":   {"contents": "read"},
		"deploy":  {"contents": "read", "id-token": "write", "pull-requests": "write", "deployments": "write", "statuses": "write"},
		"unlabel": {"pull-requests": "write"},
		"destroy": {"contents": "read", "id-token": "write", "pull-requests": "write", "deployments": "write"},
	}
	if got := slices.Sorted(maps.Keys(w.Jobs)); !slices.Equal(got, slices.Sorted(maps.Keys(perms))) {
		t.Fatalf("jobs %v; want %v, each checked here", got, slices.Sorted(maps.Keys(perms)))
	}
	for name, job := range w.Jobs {
		if !maps.Equal(job.Permissions, perms[name]) {
			t.Errorf("job %s: permissions %v; want exactly %v", name, job.Permissions, perms[name])
		}
		for _, s := range job.Steps {
			switch {
			case strings.HasPrefix(s.Uses, "actions/checkout@") && name == "build":
				if s.With["ref"] != "${{ github.event.pull_request.head.sha }}" || s.With["persist-credentials"] != "false" {
					t.Errorf("build checkout with %v; want the labelled commit (head.sha, not the branch) and persist-credentials: false", s.With)
				}
			case strings.HasPrefix(s.Uses, "actions/checkout@"):
				if s.With["ref"] != "" || s.With["repository"] != "" || s.With["persist-credentials"] != "false" {
					t.Errorf("job %s: checkout with %v; want the base branch (no ref or repository) and persist-credentials: false", name, s.With)
				}
			case strings.HasPrefix(s.Uses, "actions/download-artifact@"):
				if !strings.HasPrefix(s.With["path"], "${{ runner.temp }}/") {
					t.Errorf("job %s: the fork's archive is unpacked at %q; want a path under ${{ runner.temp }}, outside the checkout", name, s.With["path"])
				}
			}
		}
	}
	build := w.Jobs["build"]
	for _, cond := range []string{
		"github.event.action == 'labeled'",
		"github.event.label.name == 'safe-to-deploy'",
		"github.event.pull_request.head.repo.full_name != github.repository",
		"github.event.pull_request.state == 'open'",
	} {
		if !strings.Contains(build.If, cond) {
			t.Errorf("build job if %q lacks %q: the fork's code runs only after a maintainer labels an open fork pull request", build.If, cond)
		}
	}
	if build.Environment != nil {
		t.Errorf("build job has environment %v: an environment's secrets and variables would be in reach of the fork's code", build.Environment)
	}
}
