package github

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/testenv"
	"gopkg.in/yaml.v3"
)

// workflowFiles returns the workflow files and composite actions, relative
// to the module root.
func workflowFiles(t *testing.T, root string) (workflows, actions []string) {
	t.Helper()
	for _, pattern := range []string{".github/workflows/*.yml", ".github/workflows/*.yaml"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		workflows = append(workflows, m...)
	}
	actions, err := filepath.Glob(filepath.Join(root, ".github/actions/*/action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(workflows) < 3 {
		t.Fatalf("found %d workflows under %s/.github/workflows; want at least ci, preview and preview-fork", len(workflows), root)
	}
	return workflows, actions
}

func TestWorkflowsPassActionlint(t *testing.T) {
	root := moduleRoot(t)
	workflows, _ := workflowFiles(t, root)
	goBin := testenv.Binary(t, "go", "install Go: https://go.dev/dl/")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"tool", "actionlint", "-no-color"}, workflows...)
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go tool actionlint: %v\n%s", err, out)
	}
}

// untrustedInRun finds expressions inside run: scripts. A ${{ }} in a script
// is pasted into the shell before it runs, so branch names, titles, bodies
// or labels there are shell injection; values go through env: instead.
// Every expression is refused, not only the known untrusted ones.
func untrustedInRun(name string, data []byte) ([]string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	named := regexp.MustCompile(`github\.event\.pull_request\.(head\.ref|title|body)|github\.head_ref`)
	var found []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Value == "run" && v.Kind == yaml.ScalarNode && strings.Contains(v.Value, "${{") {
					what := "an expression"
					if m := named.FindString(strings.Join(strings.Fields(v.Value), "")); m != "" {
						what = "untrusted input " + m
					}
					found = append(found, fmt.Sprintf("%s:%d: run: contains %s; pass it through env:", name, v.Line, what))
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	return found, nil
}

func TestRunScriptsHoldNoExpressions(t *testing.T) {
	root := moduleRoot(t)
	workflows, actions := workflowFiles(t, root)
	for _, f := range append(workflows, actions...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		found, err := untrustedInRun(f, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range found {
			t.Error(msg)
		}
	}
}

func TestRunScriptCheckCatchesInjection(t *testing.T) {
	bad := []byte(`jobs:
  x:
    steps:
      - run: echo "${{ github.event.pull_request.head.ref }}"
      - run: |
          echo ok
          echo ${{github.head_ref}}
      - run: echo "${{ github.event.pull_request.title }}"
      - env:
          TITLE: ${{ github.event.pull_request.title }}
        run: echo "$TITLE"
`)
	found, err := untrustedInRun("bad.yml", bad)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 3 || !strings.Contains(found[0], "head.ref") || !strings.Contains(found[1], "github.head_ref") || !strings.Contains(found[2], "title") {
		t.Errorf("found = %q; want the three scripts with untrusted input, not the env: one", found)
	}
}

// workflow is the part of a workflow file the permission checks read.
type workflow struct {
	Permissions map[string]string `yaml:"permissions"`
	Concurrency concurrency       `yaml:"concurrency"`
	Jobs        map[string]struct {
		Permissions map[string]string `yaml:"permissions"`
		Concurrency concurrency       `yaml:"concurrency"`
		Steps       []struct {
			Uses string            `yaml:"uses"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// concurrency is a job's or workflow's concurrency; cancel-in-progress may
// be an expression, so it is read as text ("true", "false" or "${{ … }}").
type concurrency struct {
	Group            string `yaml:"group"`
	CancelInProgress string `yaml:"cancel-in-progress"`
}

func readWorkflow(t *testing.T, path string) workflow {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(data, &w); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return w
}

func TestWorkflowPermissionsAreTheLeastNeeded(t *testing.T) {
	root := moduleRoot(t)
	workflows, _ := workflowFiles(t, root)
	for _, f := range workflows {
		w := readWorkflow(t, f)
		if len(w.Permissions) != 1 || w.Permissions["contents"] != "read" {
			t.Errorf("%s: top-level permissions = %v; want contents: read only", f, w.Permissions)
		}
		for name, job := range w.Jobs {
			usesAWS := false
			for _, s := range job.Steps {
				usesAWS = usesAWS || s.Uses == "./.github/actions/aws-credentials"
			}
			if (job.Permissions["id-token"] == "write") != usesAWS {
				t.Errorf("%s: job %s has id-token %q but uses AWS credentials: %v", f, name, job.Permissions["id-token"], usesAWS)
			}
		}
	}
}

// A pull request closed while its deploy runs must end with no preview:
// its deploy and destroy share one group per pull request, and the newest
// event cancels the run in progress, so the destroy runs after the deploy
// has stopped and cannot be overtaken by it.
func TestClosingAPullRequestDuringItsDeployEndsWithNoPreview(t *testing.T) {
	w := readWorkflow(t, filepath.Join(moduleRoot(t), ".github/workflows/preview.yml"))
	c := w.Concurrency
	if !strings.Contains(c.Group, "github.event.pull_request.number") || c.CancelInProgress != "true" {
		t.Errorf("preview.yml: workflow concurrency %+v; want one group per pull request that cancels the run in progress", c)
	}
	for _, job := range []string{"deploy", "destroy"} {
		if _, ok := w.Jobs[job]; !ok {
			t.Fatalf("preview.yml has no %s job", job)
		}
		if jc := w.Jobs[job].Concurrency; jc != (concurrency{}) {
			t.Errorf("preview.yml: job %s has its own concurrency %+v, so a destroy could run beside a deploy of the same pull request", job, jc)
		}
	}
}

func TestForkPreviewConcurrencyNeverCancelsADestroy(t *testing.T) {
	root := moduleRoot(t)
	w := readWorkflow(t, filepath.Join(root, ".github/workflows", "preview-fork.yml"))
	deploy, destroy := w.Jobs["deploy"].Concurrency, w.Jobs["destroy"].Concurrency
	if deploy.CancelInProgress != "true" || destroy.CancelInProgress != "false" || deploy.Group == destroy.Group || destroy.Group == "" {
		t.Errorf("preview-fork.yml: deploy concurrency %+v, destroy %+v; want a cancelling deploy group and a separate, never-cancelled destroy group", deploy, destroy)
	}
	if !strings.Contains(destroy.Group, "github.event.pull_request.number") {
		t.Errorf("preview-fork.yml: destroy group %q is not per pull request", destroy.Group)
	}
}

func TestForkBuildJobHasNothingToSteal(t *testing.T) {
	root := moduleRoot(t)
	path := filepath.Join(root, ".github/workflows/preview-fork.yml")
	w := readWorkflow(t, path)
	build := w.Jobs["build"]
	if len(build.Permissions) != 1 || build.Permissions["contents"] != "read" {
		t.Errorf("build job permissions = %v; want contents: read only", build.Permissions)
	}
	for _, s := range build.Steps {
		if strings.HasPrefix(s.Uses, "./") {
			t.Errorf("build job uses local action %s: in that job ./ is the fork's checkout", s.Uses)
		}
		if strings.HasPrefix(s.Uses, "actions/setup-go") && s.With["cache"] != "false" {
			t.Errorf("build job restores or saves the Go cache (cache=%q): a fork could poison it", s.With["cache"])
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "secrets.") {
		t.Error("preview-fork.yml refers to secrets; it must not (OIDC only)")
	}
}
