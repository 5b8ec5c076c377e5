package github

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// pin is an action's commit and the release tag it was read from.
type pin struct {
	SHA, Version string
	Source       string // where the SHA was read: repository and tag
}

// pins are the only commits the workflows may run of another repository.
// Each SHA is the commit of the newest release tag of the major version the
// workflows used before pinning, read from a mirror of the action's public
// repository with `git rev-parse '<tag>^{commit}'`; the floating major tag
// (v4, v5) pointed at the same commit. To move an action, read the new
// tag's commit the same way and change it here and in every `uses:` line.
var pins = map[string]pin{
	"actions/checkout": {
		"11d5960a326750d5838078e36cf38b85af677262", "v4.4.0",
		"github.com/actions/checkout, tag v4.4.0 (= v4)"},
	"actions/setup-go": {
		"40f1582b2485089dde7abd97c1529aa768e1baff", "v5.6.0",
		"github.com/actions/setup-go, tag v5.6.0 (= v5)"},
	"actions/setup-python": {
		"a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0",
		"github.com/actions/setup-python, tag v5.6.0 (= v5)"},
	"actions/upload-artifact": {
		"ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2",
		"github.com/actions/upload-artifact, tag v4.6.2 (= v4)"},
	"actions/download-artifact": {
		"d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0",
		"github.com/actions/download-artifact, tag v4.3.0 (= v4)"},
	"aws-actions/configure-aws-credentials": {
		"7474bc4690e29a8392af63c5b98e7449536d5c3a", "v4.3.1",
		"github.com/aws-actions/configure-aws-credentials, tag v4.3.1 (= v4)"},
}

// usesLine is one `uses:` of a workflow or composite action, with the
// comment on its line.
type usesLine struct {
	File    string
	Line    int
	Value   string
	Comment string
}

// usesLines finds every `uses:` value in a workflow or action file: steps'
// and reusable workflow calls' alike.
func usesLines(name string, data []byte) ([]usesLine, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	var found []usesLine
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k, v := n.Content[i], n.Content[i+1]; k.Value == "uses" && v.Kind == yaml.ScalarNode {
					found = append(found, usesLine{name, v.Line, v.Value, strings.TrimSpace(strings.TrimPrefix(v.LineComment, "#"))})
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

var (
	pinnedRef    = regexp.MustCompile(`^([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)(/[^@]*)?@([0-9a-f]{40})$`)
	pinnedDocker = regexp.MustCompile(`^docker://[^@]+@sha256:[0-9a-f]{64}$`)
)

// unpinned checks every `uses:` of one file against the table: an action of
// another repository is referenced by the full commit SHA the table holds,
// with the table's version in a trailing comment; a tag, a branch or a short
// SHA can be moved to other code. Local actions (./, $/) are this
// repository's own code at the running commit or checkout.
func unpinned(lines []usesLine, table map[string]pin) []string {
	var bad []string
	for _, u := range lines {
		at := fmt.Sprintf("%s:%d: uses: %s", u.File, u.Line, u.Value)
		switch m := pinnedRef.FindStringSubmatch(u.Value); {
		case strings.HasPrefix(u.Value, "./"), strings.HasPrefix(u.Value, "$/"), pinnedDocker.MatchString(u.Value):
		case m == nil:
			bad = append(bad, at+": not a full 40-hex commit SHA (a tag or branch can be moved to other code)")
		case table[m[1]].SHA == "":
			bad = append(bad, at+": "+m[1]+" is not in the table of pinned actions: read its release's commit from its repository and add it, with the source")
		case m[3] != table[m[1]].SHA:
			bad = append(bad, fmt.Sprintf("%s: the table pins %s at %s (%s)", at, m[1], table[m[1]].SHA, table[m[1]].Version))
		case u.Comment != table[m[1]].Version:
			bad = append(bad, fmt.Sprintf("%s: trailing comment %q; want %q, the release that commit is", at, "# "+u.Comment, "# "+table[m[1]].Version))
		}
	}
	return bad
}

func TestActionsArePinnedToACommit(t *testing.T) {
	root := moduleRoot(t)
	workflows, actions := workflowFiles(t, root)
	used := map[string]bool{}
	for _, f := range append(workflows, actions...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, f)
		lines, err := usesLines(rel, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range unpinned(lines, pins) {
			t.Error(msg)
		}
		for _, u := range lines {
			if m := pinnedRef.FindStringSubmatch(u.Value); m != nil {
				used[m[1]] = true
			}
		}
	}
	for action, p := range pins {
		if !used[action] {
			t.Errorf("pins holds %s (%s) but no workflow or action uses it: remove the row", action, p.Version)
		}
		if !regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(p.Version) || !strings.Contains(p.Source, "github.com/"+action+", tag "+p.Version) {
			t.Errorf("pins[%s] = %+v: want a release version and the repository and tag the SHA was read from", action, p)
		}
	}
}

func TestPinCheckRefusesTagsBranchesAndShortSHAs(t *testing.T) {
	sha := pins["actions/checkout"].SHA
	doc := []byte(`jobs:
  call:
    uses: acme/workflows/.github/workflows/deploy.yml@main
  x:
    steps:
      - uses: actions/checkout@v4
      - uses: actions/checkout@main
      - uses: actions/checkout@11d5960
      - uses: actions/checkout@` + sha + `
      - uses: actions/checkout@` + sha + ` # v4.2.2
      - uses: actions/setup-go@` + sha + ` # v4.4.0
      - uses: acme/unknown@` + sha + ` # v1.0.0
      - uses: docker://alpine:3
      - uses: actions/checkout@` + sha + ` # v4.4.0
      - uses: ./.github/actions/setup
      - uses: $/.github/actions/setup
      - uses: docker://alpine@sha256:` + strings.Repeat("a", 64) + `
`)
	lines, err := usesLines("bad.yml", doc)
	if err != nil {
		t.Fatal(err)
	}
	got := unpinned(lines, pins)
	var at []int
	for _, msg := range got {
		var line int
		if _, err := fmt.Sscanf(strings.TrimPrefix(msg, "bad.yml:"), "%d:", &line); err != nil {
			t.Fatalf("message %q does not start with file:line", msg)
		}
		at = append(at, line)
	}
	// Lines 3 (reusable workflow by branch), 6 to 12 and 13 (a docker tag).
	if want := []int{3, 6, 7, 8, 9, 10, 11, 12, 13}; !slices.Equal(at, want) {
		t.Errorf("refused lines %v; want %v:\n%s", at, want, strings.Join(got, "\n"))
	}
}
