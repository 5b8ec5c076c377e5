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

// actionlint's configuration silences one message in one file (the
// concurrency `queue` key it does not know yet), never a class of checks.
func TestActionlintIgnoresOnlyTheQueueKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(moduleRoot(t), ".github/actionlint.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	var c struct {
		Paths map[string]struct {
			Ignore []string `yaml:"ignore"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	ignore := c.Paths[".github/workflows/preview-fork.yml"].Ignore
	if len(cfg) != 1 || len(c.Paths) != 1 || len(ignore) != 1 || !strings.HasPrefix(ignore[0], `unexpected key "queue" for "concurrency" section`) {
		t.Errorf(".github/actionlint.yaml = %s; want only the queue key ignored, only in preview-fork.yml", data)
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
			ID   string            `yaml:"id"`
			If   string            `yaml:"if"`
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// concurrency is a job's or workflow's concurrency; cancel-in-progress may
// be an expression, so it is read as text ("true", "false" or "${{ … }}").
// Queue "max" keeps every pending job; without it a group keeps one, and a
// newer one replaces it.
type concurrency struct {
	Group            string `yaml:"group"`
	CancelInProgress string `yaml:"cancel-in-progress"`
	Queue            string `yaml:"queue"`
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

// A pull request closed while its deploy runs must end with no preview: in
// each preview workflow its deploy and destroy share one group per pull
// request, so they never run side by side, and the destroy is never
// cancelled or replaced by a deploy. preview.yml: one workflow group
// where the newest event cancels the run in progress (the close stops the
// deploy, then destroys). preview-fork.yml: the two jobs share a group in
// which nothing cancels (a close waits for the running deploy; a deploy
// queued behind a destroy waits for it) and every pending job is kept (a
// destroy pending behind a deploy is not replaced by the next deploy), and
// a deploy that starts once the pull request is closed deploys nothing.
func TestClosingAPullRequestDuringItsDeployEndsWithNoPreview(t *testing.T) {
	dir := filepath.Join(moduleRoot(t), ".github/workflows")
	preview := readWorkflow(t, filepath.Join(dir, "preview.yml"))
	t.Run("preview.yml", func(t *testing.T) {
		c := preview.Concurrency
		if !strings.Contains(c.Group, "github.event.pull_request.number") || c.CancelInProgress != "true" {
			t.Errorf("workflow concurrency %+v; want one group per pull request that cancels the run in progress", c)
		}
		for _, job := range []string{"deploy", "destroy"} {
			if _, ok := preview.Jobs[job]; !ok {
				t.Fatalf("no %s job", job)
			}
			if jc := preview.Jobs[job].Concurrency; jc != (concurrency{}) {
				t.Errorf("job %s has its own concurrency %+v, so a destroy could run beside a deploy of the same pull request", job, jc)
			}
		}
	})
	t.Run("preview-fork.yml", func(t *testing.T) {
		w := readWorkflow(t, filepath.Join(dir, "preview-fork.yml"))
		if w.Concurrency != (concurrency{}) {
			t.Errorf("workflow concurrency %+v: every label and push event would queue behind, or cancel, a deploy or destroy; want the group on the deploy and destroy jobs only", w.Concurrency)
		}
		for _, job := range []string{"deploy", "destroy"} {
			if _, ok := w.Jobs[job]; !ok {
				t.Fatalf("no %s job", job)
			}
		}
		deploy, destroy := w.Jobs["deploy"].Concurrency, w.Jobs["destroy"].Concurrency
		if deploy.Group == "" || !strings.EqualFold(deploy.Group, destroy.Group) || !strings.Contains(deploy.Group, "github.event.pull_request.number") {
			t.Errorf("deploy group %q, destroy group %q; want one group per pull request for both, so a destroy never runs beside a deploy", deploy.Group, destroy.Group)
		}
		if deploy.CancelInProgress != "false" || destroy.CancelInProgress != "false" {
			t.Errorf("cancel-in-progress: deploy %q, destroy %q; want false for both: a close must not cancel the deploy mid-way, and a deploy queued behind a destroy must not cancel it", deploy.CancelInProgress, destroy.CancelInProgress)
		}
		if deploy.Queue != "max" || destroy.Queue != "max" {
			t.Errorf("queue: deploy %q, destroy %q; want max for both: with one pending job per group, a destroy pending behind a deploy is replaced by the next deploy to queue, and the closed pull request keeps its preview", deploy.Queue, destroy.Queue)
		}
		if strings.EqualFold(deploy.Group, preview.Concurrency.Group) {
			t.Errorf("group %q is preview.yml's, whose runs cancel the run in progress: a push to the fork would cancel its destroy", deploy.Group)
		}
		for name, job := range w.Jobs {
			if name != "deploy" && name != "destroy" && job.Concurrency != (concurrency{}) {
				t.Errorf("job %s has concurrency %+v; only deploy and destroy may hold the pull request's group", name, job.Concurrency)
			}
		}
		checkDeployAsksIfStillOpen(t, w)
	})
}

// checkDeployAsksIfStillOpen: the fork deploy job's event says the pull
// request was open when it was labelled, but its build may have run past
// the close and the destroy; the job asks GitHub again before it deploys.
func checkDeployAsksIfStillOpen(t *testing.T, w workflow) {
	t.Helper()
	asked := map[string]bool{} // ids of earlier steps that read the pull request's state
	for _, s := range w.Jobs["deploy"].Steps {
		if strings.Contains(s.Run, "gh api") && strings.Contains(s.Run, "/pulls/") && strings.Contains(s.Run, ".state") && s.ID != "" {
			asked[s.ID] = true
		}
		if !strings.Contains(s.Run, "mage.go preview:deploy") {
			continue
		}
		for id := range asked {
			if strings.Contains(s.If, "steps."+id+".outputs.state == 'open'") {
				return
			}
		}
		t.Errorf("the deploy step runs if %q; want it to run only when an earlier step (ids %v) found the pull request still open", s.If, asked)
		return
	}
	t.Error("the deploy job has no `go run mage.go preview:deploy` step")
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
