package github

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/slipway/slipway/infra"
)

// dbWorkflow is what the checks of preview-database.yml read.
type dbWorkflow struct {
	On   map[string]yaml.Node `yaml:"on"`
	Jobs map[string]struct {
		If          string            `yaml:"if"`
		Environment string            `yaml:"environment"`
		Permissions map[string]string `yaml:"permissions"`
		Concurrency concurrency       `yaml:"concurrency"`
		Env         map[string]string `yaml:"env"`
		Steps       []struct {
			If   string            `yaml:"if"`
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			With map[string]string `yaml:"with"`
			Env  map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// The trusted half of a preview's database runs with the release role on
// pull_request_target, so it must never run the pull request's code:
// the checkout has no ref (the base branch), nothing refers to the head,
// the only event value is the number (through env:), and its run lines
// are exactly the preview:database target. Its environment is one the
// release role's trust policy names, its permissions the least, and its
// runs queue per pull request in a group of their own (never
// preview.yml's, whose runs cancel one another).
func TestPreviewDatabaseWorkflowRunsNoPullRequestCode(t *testing.T) {
	dir := filepath.Join(moduleRoot(t), ".github/workflows")
	path := filepath.Join(dir, "preview-database.yml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var w dbWorkflow
	if err := yaml.Unmarshal(data, &w); err != nil {
		t.Fatal(err)
	}
	if len(w.On) != 1 || w.On["pull_request_target"].Kind == 0 {
		t.Errorf("triggers %v; want pull_request_target only (the base branch's code)", slices.Collect(maps.Keys(w.On)))
	}
	for _, ref := range []string{"head.sha", "head.ref", "head_ref", "merge_commit_sha", "refs/pull", "secrets."} {
		if strings.Contains(string(data), ref) {
			t.Errorf("preview-database.yml refers to %s: it must use nothing of the pull request's code or any secret", ref)
		}
	}
	job, ok := w.Jobs["database"]
	if !ok || len(w.Jobs) != 1 {
		t.Fatalf("jobs %v; want one job, database", slices.Collect(maps.Keys(w.Jobs)))
	}
	if len(job.Permissions) != 2 || job.Permissions["contents"] != "read" || job.Permissions["id-token"] != "write" {
		t.Errorf("permissions %v; want contents: read and id-token: write only", job.Permissions)
	}
	if !strings.Contains(job.If, "github.event.pull_request.base.ref == github.event.repository.default_branch") {
		t.Errorf("if %q: want the job only for pull requests into the default branch", job.If)
	}
	if job.Env["PR_NUMBER"] != "${{ github.event.pull_request.number }}" {
		t.Errorf("PR_NUMBER = %q; want the pull request's number", job.Env["PR_NUMBER"])
	}
	checkDatabaseSteps(t, job.Steps)

	// The environment is one the release role trusts, and only the
	// production and preview-database environments are.
	b, err := infra.Policy(infra.TrustRelease, infra.PolicyVars{App: "demo", Account: "123456789012", Region: "eu-west-1", Repo: "acme/shop"})
	if err != nil {
		t.Fatal(err)
	}
	var trust struct {
		Statement []struct {
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal(b, &trust); err != nil {
		t.Fatal(err)
	}
	subs, _ := json.Marshal(trust.Statement[0].Condition["StringEquals"]["token.actions.githubusercontent.com:sub"])
	if job.Environment == "" || !strings.Contains(string(subs), `"repo:acme/shop:environment:`+job.Environment+`"`) {
		t.Errorf("environment %q is not one the release role trusts (%s)", job.Environment, subs)
	}

	preview := readWorkflow(t, filepath.Join(dir, "preview.yml"))
	c := job.Concurrency
	if !strings.Contains(c.Group, "github.event.pull_request.number") || c.CancelInProgress != "false" || strings.EqualFold(c.Group, preview.Concurrency.Group) {
		t.Errorf("concurrency %+v; want a group per pull request of its own (not %q) that cancels nothing", c, preview.Concurrency.Group)
	}
}

// checkDatabaseSteps: the checkout has no ref and keeps no credentials;
// the two run steps are the target with the number from env:, the drop
// on close only.
func checkDatabaseSteps(t *testing.T, steps []struct {
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}) {
	t.Helper()
	var runs []string
	checkout := false
	for _, s := range steps {
		if strings.HasPrefix(s.Uses, "actions/checkout@") {
			checkout = true
			if _, ok := s.With["ref"]; ok || s.With["repository"] != "" || s.With["persist-credentials"] != "false" {
				t.Errorf("checkout with %v; want no ref or repository (the base branch) and persist-credentials: false", s.With)
			}
		}
		if s.Run != "" {
			runs = append(runs, s.If+" => "+s.Run)
		}
	}
	want := []string{
		`github.event.action != 'closed' => go run mage.go preview:database -pr="$PR_NUMBER"`,
		`github.event.action == 'closed' => go run mage.go preview:database -pr="$PR_NUMBER" -drop`,
	}
	if !checkout || !slices.Equal(runs, want) {
		t.Errorf("checkout %v, run steps %q; want a checkout and exactly %q", checkout, runs, want)
	}
}

// The untrusted deploys get the database setting and use the existing
// database by its secret (never creating one), and the preview role's
// destroy does not get it (it may not drop it: preview-database.yml does).
func TestPreviewWorkflowsPassTheDatabaseSetting(t *testing.T) {
	dir := filepath.Join(moduleRoot(t), ".github/workflows")
	for file, want := range map[string]map[string]bool{
		"preview.yml":      {"deploy": true, "destroy": false},
		"preview-fork.yml": {"deploy": true, "destroy": false},
	} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		var w struct {
			Jobs map[string]struct {
				Env map[string]string `yaml:"env"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(data, &w); err != nil {
			t.Fatal(err)
		}
		for job, on := range want {
			got, ok := w.Jobs[job].Env["SLIPWAY_DATABASE"]
			if on && got != "${{ vars.SLIPWAY_DATABASE }}" || !on && ok {
				t.Errorf("%s job %s: SLIPWAY_DATABASE = %q (set %v); want it from vars: %v", file, job, got, ok, on)
			}
			if mode := w.Jobs[job].Env["SLIPWAY_PREVIEW_DATABASE"]; on && mode != "existing" {
				t.Errorf("%s job %s: SLIPWAY_PREVIEW_DATABASE = %q; want existing, so the deploy never creates the database beside preview-database.yml", file, job, mode)
			}
		}
	}
}

// Releases and cleanup assume the release role, which trusts only the
// production environment's subject, and they get the database setting:
// without it no golden copy is built and no contract migration runs.
func TestReleaseAndCleanupRunAsProductionWithTheDatabaseSetting(t *testing.T) {
	dir := filepath.Join(moduleRoot(t), ".github/workflows")
	for file, job := range map[string]string{"release.yml": "release", "cleanup.yml": "cleanup"} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		var w struct {
			Jobs map[string]struct {
				Environment any               `yaml:"environment"`
				Env         map[string]string `yaml:"env"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(data, &w); err != nil {
			t.Fatal(err)
		}
		j, ok := w.Jobs[job]
		if !ok {
			t.Fatalf("%s has no job %s", file, job)
		}
		if j.Environment != "production" {
			t.Errorf("%s job %s: environment %v; want production (the release role's only trusted subject)", file, job, j.Environment)
		}
		if got := j.Env["SLIPWAY_DATABASE"]; got != "${{ vars.SLIPWAY_DATABASE }}" {
			t.Errorf("%s job %s: SLIPWAY_DATABASE = %q; want it from vars", file, job, got)
		}
	}
}
