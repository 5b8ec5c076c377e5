package manifest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/slipway/slipway/internal/naming"
)

var (
	varNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	urlPathRe = regexp.MustCompile(`^/[A-Za-z0-9/._~-]{0,1000}$`) // what an ALB health check takes
)

// reserved are the variables Slipway sets in every stack itself.
var reserved = map[string]string{
	"PORT":          "Slipway sets PORT from port",
	"SLIPWAY_STACK": "Slipway sets SLIPWAY_STACK to the stack's name",
	"DATABASE_URL":  "Slipway sets DATABASE_URL to the stack's database (see database)",
}

// check records the problems that need more than a value's type: names,
// the health path, secrets that are also plain variables.
func (m *Manifest) check(p *problems) {
	if m.Has("app") {
		if err := naming.ValidateApp(m.App); err != nil {
			p.at(m.keys["app"].value, "app: %v", err)
		}
	}
	if m.Has("health.path") && !urlPathRe.MatchString(m.Health.Path) {
		p.at(m.keys["health.path"].value, "health.path: want an absolute URL path such as /healthz, got %q", m.Health.Path)
	}
	const what = "a variable name (letters, digits and _, not starting with a digit)"
	m.checkNames(p, "env", m.Env, what, true)
	m.checkNames(p, "preview.env", m.Preview.Env, what, true)
	m.checkNames(p, "production.env", m.Production.Env, what, true)
	m.checkNames(p, "secrets", m.Secrets, what, true)
	m.checkNames(p, "build.args", m.Build.Args, "a build argument name (letters, digits and _, not starting with a digit)", false)
	for name, ref := range m.Secrets {
		key := "secrets." + name
		if ref == "" || strings.ContainsAny(ref, " \t\n") {
			p.at(m.keys[key].value, "%s: want a reference: a Secrets Manager ARN or name or an SSM parameter (aws), or the name of a variable in your environment (local), got %q", key, ref)
		}
		for _, stage := range []string{"env", "preview.env", "production.env"} {
			if _, isReserved := reserved[name]; !isReserved && m.Has(stage+"."+name) {
				p.at(m.keys[key].key, "%s: %s is also in %s (line %d): a variable is either plain (env) or secret (secrets)", key, name, stage, m.Line(stage+"."+name))
			}
		}
	}
	if m.Has("test.junit") && !m.Has("test.command") {
		p.at(m.keys["test.junit"].key, "test.junit: there is no test.command to write it: add the command that writes %s", m.Test.JUnit)
	}
}

// checkNames checks the names of one mapping of variables.
func (m *Manifest) checkNames(p *problems, stage string, vars map[string]string, what string, checkReserved bool) {
	for name := range vars {
		at := m.keys[stage+"."+name].key
		if !varNameRe.MatchString(name) {
			p.at(at, "%s: want %s, got %q", stage, what, name)
		} else if why, ok := reserved[name]; ok && checkReserved {
			p.at(at, "%s.%s: %s: remove it", stage, name, why)
		}
	}
}

// resolve makes the paths absolute and checks that each stays inside the
// repository and, for what must exist already, exists.
func (m *Manifest) resolve(p *problems) {
	b := &m.Build
	n := len(p.errs)
	b.Context = m.path(p, "build.context", b.Context, ".", m.Dir, "build", "directory")
	dp := p
	if len(p.errs) > n { // what is wrong with the Dockerfile then follows from the context
		dp = &problems{file: p.file}
	}
	b.Dockerfile = m.path(dp, "build.dockerfile", b.Dockerfile, DefaultDockerfile, b.Context, "build", "file")
	if m.Has("build.go") {
		b.Go = m.path(p, "build.go", b.Go, ".", m.Dir, "build", "directory")
	}
	if m.Has("test.junit") {
		m.Test.JUnit = m.path(p, "test.junit", m.Test.JUnit, "", m.Dir, "test", "")
	}
	if m.Database != nil && m.Has("database.migrations") {
		m.Database.Migrations = m.path(p, "database.migrations", m.Database.Migrations, "", m.Dir, "database", "directory")
	}
}

// path resolves rel (def when the file leaves key out) against base and
// checks it is a "file" or "directory" (want; "" for an output). A problem
// is placed at key's value, else at parent's key, else on the file.
func (m *Manifest) path(p *problems, key, rel, def, base, parent, want string) string {
	at := m.keys[parent].key
	if k, ok := m.keys[key]; ok {
		at = k.value
	}
	if rel == "" {
		rel = def
	}
	if filepath.IsAbs(rel) || strings.HasPrefix(rel, "~") {
		p.at(at, "%s: %q is not a relative path: write it relative to %s", key, rel, relativeTo(key))
		return rel
	}
	abs := filepath.Join(base, filepath.FromSlash(rel))
	if r, err := filepath.Rel(m.Root, abs); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		p.at(at, "%s: %q leads outside the repository (its root is %s): keep every path inside it", key, rel, m.show(m.Root))
		return abs
	}
	if want == "" {
		return abs
	}
	show := m.show(abs)
	switch fi, err := os.Stat(abs); {
	case errors.Is(err, fs.ErrNotExist) && !m.Has(key) && key == "build.dockerfile":
		p.at(at, "build.dockerfile: no %s (the default: Dockerfile in build.context): add one, or set build.dockerfile", show)
	case errors.Is(err, fs.ErrNotExist):
		p.at(at, "%s: %s does not exist", key, show)
	case err != nil:
		p.at(at, "%s: %v", key, err)
	case fi.IsDir() != (want == "directory"):
		p.at(at, "%s: %s is not a %s", key, show, want)
	}
	return abs
}

func relativeTo(key string) string {
	if key == "build.dockerfile" {
		return "build.context"
	}
	return "slipway.yaml's directory"
}

// show is abs as the file would name it: relative to its directory.
func (m *Manifest) show(abs string) string {
	if r, err := filepath.Rel(m.Dir, abs); err == nil {
		return filepath.ToSlash(r)
	}
	return abs
}
