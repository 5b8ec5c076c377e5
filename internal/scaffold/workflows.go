package scaffold

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"text/template"
)

//go:embed templates
var templates embed.FS

// pin is an action's commit and the release it is.
type pin struct{ SHA, Version string }

// pins are the only commits of other repositories that the scaffolded
// workflows run: the same as Slipway's own workflows and actions pin, each
// read from the action's repository at its release tag (the table with the
// sources is internal/github/workflows_pinned_test.go). A test reads
// Slipway's .github and keeps this table equal to it.
var pins = map[string]pin{
	"actions/checkout":                      {"11d5960a326750d5838078e36cf38b85af677262", "v4.4.0"},
	"actions/setup-go":                      {"40f1582b2485089dde7abd97c1529aa768e1baff", "v5.6.0"},
	"actions/upload-artifact":               {"ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"},
	"actions/download-artifact":             {"d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"},
	"aws-actions/configure-aws-credentials": {"7474bc4690e29a8392af63c5b98e7449536d5c3a", "v4.3.1"},
}

// WorkflowDir is where the workflows go in the app's repository.
const WorkflowDir = ".github/workflows"

// workflowData is what the workflow templates are rendered with.
type workflowData struct {
	App      string // for the concurrency groups' default
	Database bool   // slipway.yaml has a database: the preview-database workflow and its settings
}

// funcs are the templates' functions: pin renders an action's pinned
// reference with its release in a trailing comment; quote and flow render
// YAML strings and flow lists (JSON's syntax, which YAML reads alike).
var funcs = template.FuncMap{
	"pin": func(action string) (string, error) {
		p, ok := pins[action]
		if !ok {
			return "", fmt.Errorf("no pinned commit for %s", action)
		}
		return action + "@" + p.SHA + " # " + p.Version, nil
	},
	"quote": func(s string) (string, error) {
		b, err := json.Marshal(s)
		return string(b), err
	},
	"flow": func(list []string) (string, error) {
		b, err := json.Marshal(list)
		return strings.ReplaceAll(string(b), `","`, `", "`), err
	},
}

// render executes the embedded template name with data. Its delimiters are
// [[ ]], as GitHub's expressions use ${{ }}.
func render(name string, data any) ([]byte, error) {
	t, err := template.New(path.Base(name)).Delims("[[", "]]").Funcs(funcs).Option("missingkey=error").ParseFS(templates, "templates/"+name)
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// Workflows renders the GitHub Actions workflows for an app's repository,
// by path: preview, fork preview, release and cleanup, and the preview
// database when the app has a database.
func Workflows(app string, database bool) (map[string][]byte, error) {
	names := []string{"slipway-preview.yml", "slipway-preview-fork.yml", "slipway-release.yml", "slipway-cleanup.yml"}
	if database {
		names = append(names, "slipway-preview-database.yml")
	}
	out := map[string][]byte{}
	for _, n := range names {
		data, err := render("workflows/"+n+".tmpl", workflowData{App: app, Database: database})
		if err != nil {
			return nil, err
		}
		out[WorkflowDir+"/"+n] = data
	}
	return out, nil
}
