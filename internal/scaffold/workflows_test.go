package scaffold

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/slipway/slipway/internal/manifest"
	"github.com/slipway/slipway/internal/testenv"
	"github.com/slipway/slipway/internal/testrun"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from what the templates render")

// exampleWorkflows renders the workflows for the example app as init
// scaffolds it (its slipway.yaml has no database), and for the same app
// with a database, by variant.
func exampleWorkflows(t *testing.T) map[string]map[string][]byte {
	t.Helper()
	m, err := manifest.Load(filepath.Join(testenv.ModuleDir(t), "examples", "python-shop", manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]byte{}
	for variant, database := range map[string]bool{"python-shop": m.Database != nil, "python-shop-database": true} {
		if out[variant], err = Workflows(m.App, database); err != nil {
			t.Fatal(err)
		}
	}
	if len(out["python-shop"]) != 4 || len(out["python-shop-database"]) != 5 {
		t.Fatalf("rendered %d and %d workflows; want 4 without a database and 5 with one", len(out["python-shop"]), len(out["python-shop-database"]))
	}
	return out
}

// workflowRepo writes files into a new git repository and returns it.
func workflowRepo(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	gitInit(t, dir)
	for p, data := range files {
		writeTree(t, dir, map[string]string{p: string(data)})
	}
	return dir
}

func TestScaffoldedWorkflowsMatchTheirGoldenFiles(t *testing.T) {
	for variant, files := range exampleWorkflows(t) {
		golden := filepath.Join("testdata", "workflows", variant)
		if *update {
			if err := os.RemoveAll(golden); err != nil {
				t.Fatal(err)
			}
			for p, data := range files {
				writeTree(t, golden, map[string]string{filepath.Base(p): string(data)})
			}
		}
		have, err := filepath.Glob(filepath.Join(golden, "*.yml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(have) != len(files) {
			t.Errorf("%s holds %d files; the templates render %d (go test -run %s -update rewrites them)", golden, len(have), len(files), t.Name())
		}
		for p, data := range files {
			want, err := os.ReadFile(filepath.Join(golden, filepath.Base(p)))
			if err != nil {
				t.Errorf("%v (go test -run %s -update writes it)", err, t.Name())
				continue
			}
			if string(want) != string(data) {
				t.Errorf("%s/%s differs from what the template renders (go test -run %s -update rewrites it):\n%s", golden, filepath.Base(p), t.Name(), data)
			}
		}
	}
}

func TestScaffoldedWorkflowsPassActionlint(t *testing.T) {
	root := testenv.ModuleDir(t)
	goBin := testenv.Binary(t, "go", "install Go: https://go.dev/dl/")
	for variant, files := range exampleWorkflows(t) {
		t.Run(variant, func(t *testing.T) {
			repo := workflowRepo(t, files)
			args := []string{"tool", "actionlint", "-color=false"}
			for _, p := range sortedKeys(files) {
				args = append(args, filepath.Join(repo, p))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, goBin, args...)
			cmd.Dir = root // where go.mod's tool directive pins actionlint
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("go tool actionlint: %v\n%s", err, out)
			}
		})
	}
}

// zizmorVenv is the venv holding the suite's pinned zizmor: SLIPWAY_VENV,
// else the one `go run mage.go test` made in Slipway's cache; "" for PATH.
func zizmorVenv(t *testing.T) string {
	if v := os.Getenv("SLIPWAY_VENV"); v != "" {
		return v
	}
	v := filepath.Join(testrun.CacheDir(testenv.ModuleDir(t)), "venv")
	if _, err := os.Stat(filepath.Join(v, "bin", "zizmor")); err == nil {
		return v
	}
	return ""
}

func TestScaffoldedWorkflowsPassZizmor(t *testing.T) {
	venv := zizmorVenv(t)
	for variant, files := range exampleWorkflows(t) {
		t.Run(variant, func(t *testing.T) {
			repo := workflowRepo(t, files)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			step := testrun.Zizmor(filepath.Join(repo, ".github"))
			out, err := step.Command(ctx, repo, venv).CombinedOutput()
			if errors.Is(err, exec.ErrNotFound) {
				testenv.Missing(t, "zizmor", "run the suite with `go run mage.go test`, which installs the pinned zizmor in a venv (SLIPWAY_VENV)")
			}
			if err != nil {
				t.Errorf("%s: %v\n%s", strings.Join(step.Args, " "), err, out)
			}
		})
	}
}

// usesLine is one `uses:` value of a workflow or action, with its line
// and the comment after it.
type usesLine struct {
	at, value, comment string
}

// usesLines finds every `uses:` of a workflow or composite action.
func usesLines(t *testing.T, name string, data []byte) []usesLine {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	var found []usesLine
	walk(&doc, func(k, v *yaml.Node) {
		if k.Value == "uses" && v.Kind == yaml.ScalarNode {
			found = append(found, usesLine{fmt.Sprintf("%s:%d", name, v.Line), v.Value, strings.TrimSpace(strings.TrimPrefix(v.LineComment, "#"))})
		}
	})
	return found
}

// walk calls f with every key and value of every mapping under n.
func walk(n *yaml.Node, f func(k, v *yaml.Node)) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			f(n.Content[i], n.Content[i+1])
		}
	}
	for _, c := range n.Content {
		walk(c, f)
	}
}

var shaRef = regexp.MustCompile(`^([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)@([0-9a-f]{40})$`)

// unpinned checks uses lines against the table: another repository's
// action by the full commit SHA the table holds, its release in a
// trailing comment. A tag, a branch, a short SHA or a local action (which
// would be Slipway's layout, not the team's) is refused.
func unpinned(lines []usesLine, table map[string]pin) []string {
	var bad []string
	for _, u := range lines {
		m := shaRef.FindStringSubmatch(u.value)
		switch {
		case m == nil:
			bad = append(bad, u.at+": uses: "+u.value+": not another repository's action at a full commit SHA")
		case table[m[1]].SHA != m[2]:
			bad = append(bad, fmt.Sprintf("%s: uses: %s: the table pins %s at %q", u.at, u.value, m[1], table[m[1]].SHA))
		case u.comment != table[m[1]].Version:
			bad = append(bad, fmt.Sprintf("%s: uses: %s # %s: want the comment # %s", u.at, u.value, u.comment, table[m[1]].Version))
		}
	}
	return bad
}

func TestScaffoldedActionsArePinnedByCommit(t *testing.T) {
	for variant, files := range exampleWorkflows(t) {
		for _, p := range sortedKeys(files) {
			for _, msg := range unpinned(usesLines(t, variant+"/"+p, files[p]), pins) {
				t.Error(msg)
			}
		}
	}
}

func TestPinCheckRefusesTagsBranchesShortSHAsAndLocalActions(t *testing.T) {
	sha := pins["actions/checkout"].SHA
	doc := []byte(`jobs:
  x:
    steps:
      - uses: actions/checkout@v4
      - uses: actions/checkout@main
      - uses: actions/checkout@` + sha[:7] + ` # v4.4.0
      - uses: actions/checkout@` + sha + `
      - uses: actions/setup-go@` + sha + ` # v4.4.0
      - uses: ./.github/actions/setup
      - uses: actions/checkout@` + sha + ` # v4.4.0
`)
	bad := unpinned(usesLines(t, "bad.yml", doc), pins)
	if len(bad) != 6 || strings.Contains(strings.Join(bad, "\n"), "bad.yml:11") {
		t.Errorf("refused:\n%s\nwant lines 4 to 9 refused and line 11 accepted", strings.Join(bad, "\n"))
	}
}

// The table is Slipway's own: each action it pins is pinned at the same
// commit, with the same release comment, in Slipway's .github (whose
// sources internal/github/workflows_pinned_test.go records).
func TestPinsAreTheCommitsSlipwaysOwnWorkflowsUse(t *testing.T) {
	root := testenv.ModuleDir(t)
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	actions, err := filepath.Glob(filepath.Join(root, ".github", "actions", "*", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	own := map[string][]string{} // action: "sha # version" as Slipway's files use it
	for _, f := range append(files, actions...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range usesLines(t, f, data) {
			if m := shaRef.FindStringSubmatch(u.value); m != nil && !slices.Contains(own[m[1]], m[2]+" # "+u.comment) {
				own[m[1]] = append(own[m[1]], m[2]+" # "+u.comment)
			}
		}
	}
	for action, p := range pins {
		if want := []string{p.SHA + " # " + p.Version}; !slices.Equal(own[action], want) {
			t.Errorf("pins[%s] = %s # %s; Slipway's own .github pins it at %q", action, p.SHA, p.Version, own[action])
		}
	}
}

// workflowDoc is the part of a workflow the security checks read.
type workflowDoc struct {
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		Permissions map[string]string `yaml:"permissions"`
		Steps       []workflowStep    `yaml:"steps"`
	} `yaml:"jobs"`
}

type workflowStep struct {
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
}

func readWorkflowDoc(t *testing.T, name string, data []byte) workflowDoc {
	t.Helper()
	var w workflowDoc
	if err := yaml.Unmarshal(data, &w); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return w
}

func TestScaffoldedWorkflowPermissionsAreTheLeastNeeded(t *testing.T) {
	for variant, files := range exampleWorkflows(t) {
		for name, data := range files {
			w := readWorkflowDoc(t, name, data)
			if len(w.Permissions) != 1 || w.Permissions["contents"] != "read" {
				t.Errorf("%s/%s: top-level permissions %v; want contents: read only", variant, name, w.Permissions)
			}
			for job, j := range w.Jobs {
				if len(j.Permissions) == 0 {
					t.Errorf("%s/%s: job %s declares no permissions", variant, name, job)
				}
				aws := slices.ContainsFunc(j.Steps, func(s workflowStep) bool {
					return strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@")
				})
				if (j.Permissions["id-token"] == "write") != aws {
					t.Errorf("%s/%s: job %s has id-token %q and AWS credentials %v: OIDC is for the jobs that assume a role, only", variant, name, job, j.Permissions["id-token"], aws)
				}
				for scope, level := range j.Permissions {
					if level == "write" && scope == "contents" || scope == "write-all" {
						t.Errorf("%s/%s: job %s: %s: %s", variant, name, job, scope, level)
					}
				}
			}
		}
	}
}

// A pull_request_target workflow runs with the default branch's code and
// the repository's credentials: the pull request's code is checked out
// only by the fork preview's build job, which has a read-only token, no
// cache and no AWS credentials; the trigger says so to zizmor in words.
func TestPullRequestTargetJobsNeverRunThePullRequestsCodeWithCredentials(t *testing.T) {
	files := exampleWorkflows(t)["python-shop-database"]
	for _, name := range []string{".github/workflows/slipway-preview-fork.yml", ".github/workflows/slipway-preview-database.yml"} {
		data := files[name]
		if strings.Contains(string(data), "secrets.") {
			t.Errorf("%s uses a secret: the workflows need none", name)
		}
		ignore := regexp.MustCompile(`(?m)^  pull_request_target: # zizmor: ignore\[dangerous-triggers\] (.{20,})$`)
		if !ignore.Match(data) {
			t.Errorf("%s: the pull_request_target trigger carries no zizmor ignore comment with its reason", name)
		}
		w := readWorkflowDoc(t, name, data)
		for job, j := range w.Jobs {
			for _, s := range j.Steps {
				if !strings.HasPrefix(s.Uses, "actions/checkout@") {
					continue
				}
				prCode := s.With["ref"] != "" || s.With["repository"] != ""
				switch {
				case prCode && (name != ".github/workflows/slipway-preview-fork.yml" || job != "build"):
					t.Errorf("%s: job %s checks out %q %q: only the fork preview's build job may check out the pull request's code", name, job, s.With["repository"], s.With["ref"])
				case job == "build" && !prCode:
					t.Errorf("%s: the build job checks out the default branch; it builds the fork's labelled commit", name)
				}
			}
			if job != "build" {
				continue
			}
			if len(j.Permissions) != 1 || j.Permissions["contents"] != "read" {
				t.Errorf("%s: the build job, which runs the fork's code, has permissions %v; want contents: read only", name, j.Permissions)
			}
			for _, s := range j.Steps {
				if strings.HasPrefix(s.Uses, "actions/setup-go@") && s.With["cache"] != "false" {
					t.Errorf("%s: the build job restores and saves the Go cache: the fork's code could poison it", name)
				}
				if strings.HasPrefix(s.Uses, "aws-actions/") {
					t.Errorf("%s: the build job gets AWS credentials", name)
				}
			}
		}
	}
}

func TestScaffoldedRunScriptsHoldNoExpressionsAndRunOnlyMageTargets(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(testenv.ModuleDir(t), "targets", "targets.go"))
	if err != nil {
		t.Fatal(err)
	}
	target := regexp.MustCompile(`go run mage\.go ([a-z:A-Z]+)`)
	for variant, files := range exampleWorkflows(t) {
		for name, data := range files {
			var doc yaml.Node
			if err := yaml.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			walk(&doc, func(k, v *yaml.Node) {
				if k.Value != "run" {
					return
				}
				at := fmt.Sprintf("%s/%s:%d", variant, name, v.Line)
				if strings.Contains(v.Value, "${{") {
					t.Errorf("%s: run: holds an expression; pass it through env:", at)
				}
				for _, bad := range []string{"./.github/", "scripts/", "sample-app", "infra/"} {
					if strings.Contains(v.Value, bad) {
						t.Errorf("%s: run: refers to %s, a part of Slipway's repository, not the team's", at, bad)
					}
				}
				for _, m := range target.FindAllStringSubmatch(v.Value, -1) {
					if !strings.Contains(string(src), targetFunc(m[1])) {
						t.Errorf("%s: go run mage.go %s: package targets has no %s", at, m[1], targetFunc(m[1]))
					}
				}
			})
		}
	}
}

// targetFunc is the declaration of a mage target in package targets:
// "preview:deploy" is `func (Preview) Deploy(`, "build" `func Build(`.
func targetFunc(name string) string {
	title := func(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
	if ns, fn, ok := strings.Cut(name, ":"); ok {
		return "func (" + title(ns) + ") " + title(fn) + "("
	}
	return "func " + title(name) + "("
}
