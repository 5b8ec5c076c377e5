package scaffold

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/slipway/slipway/internal/manifest"
	"github.com/slipway/slipway/internal/naming"
)

// Spec is what init writes into slipway.yaml, each value with where it
// came from (a flag, a file and line, or a default), which the file's
// comments and init's output repeat.
type Spec struct {
	App, AppFrom       string
	Port               int
	PortFrom           string
	Health, HealthFrom string
	Test               []string // the command; never empty
	JUnit              string   // the report Test writes, relative; "" for none
	TestFrom           string
}

// pytestJUnit is where the pytest command init writes puts its report.
const pytestJUnit = "test-results/junit.xml"

var urlPathRe = regexp.MustCompile(`^/[A-Za-z0-9/._~-]{0,1000}$`) // manifest's health.path

// Detect works out the app's slipway.yaml from dir and the flags in o:
// each flag wins over what is found. The app is named after the directory;
// the port is the Dockerfile's EXPOSE; the health path is the one its
// HEALTHCHECK requests, else Slipway's default; the test command comes from
// package.json, a pytest configuration, a Go module or a tests/ directory
// of unittest files. What cannot be found is an error naming the flag to
// pass, all of them at once.
func Detect(dir string, o Options) (Spec, error) {
	var s Spec
	var errs []error
	data, err := os.ReadFile(filepath.Join(dir, manifest.DefaultDockerfile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return s, fmt.Errorf("no Dockerfile in %s: Slipway builds the app's image from one; add it (with EXPOSE and the app's port) and run init again", dir)
		}
		return s, fmt.Errorf("read Dockerfile: %w", err)
	}
	ins, err := instructions(data)
	if err != nil {
		return s, err
	}
	stage := lastStage(ins)

	s.App, s.AppFrom = o.App, "-app"
	if s.App == "" {
		s.App, s.AppFrom = appName(filepath.Base(dir)), "the directory's name"
	}
	if err := naming.ValidateApp(s.App); err != nil {
		errs = append(errs, fmt.Errorf("app name from %s: %w: pass -app=NAME", s.AppFrom, err))
	}

	s.Port, s.PortFrom = o.Port, "-port"
	switch port, line, err := exposedPort(stage); {
	case o.Port != 0:
		if o.Port < 1 || o.Port > 65535 {
			errs = append(errs, fmt.Errorf("-port=%d: want a port from 1 to 65535", o.Port))
		}
	case err != nil:
		errs = append(errs, fmt.Errorf("%w: pass -port=N, the port the app serves HTTP on", err))
	case port == 0:
		errs = append(errs, errors.New("the Dockerfile's last stage has no EXPOSE: pass -port=N, the port the app serves HTTP on (Slipway gives it to the app as PORT)"))
	default:
		s.Port, s.PortFrom = port, fmt.Sprintf("EXPOSE in Dockerfile (line %d)", line)
	}

	s.Health, s.HealthFrom = o.Health, "-health"
	if s.Health == "" {
		s.Health, s.HealthFrom = manifest.DefaultHealthPath, "Slipway's default: pass -health=PATH for another"
		if p, line := healthPath(stage); p != "" {
			s.Health, s.HealthFrom = p, fmt.Sprintf("HEALTHCHECK in Dockerfile (line %d)", line)
		}
	}
	if !urlPathRe.MatchString(s.Health) {
		errs = append(errs, fmt.Errorf("health path %q from %s: want an absolute URL path such as /health: pass -health=PATH", s.Health, s.HealthFrom))
	}

	s.Test, s.TestFrom = o.Test, "-test"
	if len(s.Test) == 0 {
		switch found, err := detectTest(dir); {
		case err != nil:
			errs = append(errs, err)
		case found.command == nil:
			errs = append(errs, errors.New("no test command found (no package.json test script, pytest configuration, Go module with packages, or tests/test_*.py): pass -test=\"COMMAND ARGS\": it runs against each deployed stack, whose URL it gets in SLIPWAY_URL"))
		default:
			s.Test, s.JUnit, s.TestFrom = found.command, found.junit, found.from
		}
	}
	return s, errors.Join(errs...)
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// appName makes a directory's name into an app name: lower case, words
// joined by single hyphens, starting with a letter, at most naming.MaxApp
// characters.
func appName(base string) string {
	n := strings.Trim(nonName.ReplaceAllString(strings.ToLower(base), "-"), "-")
	if n != "" && (n[0] < 'a' || n[0] > 'z') {
		n = "app-" + n
	}
	if len(n) > naming.MaxApp {
		n = strings.TrimRight(n[:naming.MaxApp], "-")
	}
	return n
}

// testCommand is a test command init found, and where.
type testCommand struct {
	command []string
	junit   string
	from    string
}

// detectTest finds the app's test command, in this order: package.json's
// test script (npm test), a pytest configuration (pytest.ini, conftest.py,
// [tool:pytest] in setup.cfg, [pytest] in tox.ini, pytest in
// pyproject.toml), a Go module with Go packages besides the magefiles (go
// test), tests/test_*.py without pytest (unittest). The zero testCommand:
// none found.
func detectTest(dir string) (testCommand, error) {
	if ok, err := npmTest(dir); err != nil {
		return testCommand{}, err
	} else if ok {
		return testCommand{command: []string{"npm", "test"}, from: "the test script in package.json"}, nil
	}
	pytest := []string{"python3", "-m", "pytest", "--junitxml=" + pytestJUnit}
	for _, c := range []struct{ file, needs string }{
		{"pytest.ini", ""}, {"conftest.py", ""}, {"setup.cfg", "[tool:pytest]"}, {"tox.ini", "[pytest]"}, {"pyproject.toml", "pytest"},
	} {
		data, err := os.ReadFile(filepath.Join(dir, c.file))
		if err == nil && strings.Contains(string(data), c.needs) {
			return testCommand{command: pytest, junit: pytestJUnit, from: "pytest (" + c.file + ")"}, nil
		}
	}
	if hasGoPackages(dir) {
		return testCommand{command: []string{"go", "test", "-count=1", "-json", "./..."}, from: "go.mod and its packages"}, nil
	}
	for _, d := range []string{"tests", "test"} {
		if m, _ := filepath.Glob(filepath.Join(dir, d, "test*.py")); len(m) > 0 {
			return testCommand{command: []string{"python3", "-m", "unittest", "discover", "-s", d, "-v"}, from: d + "/test*.py (the standard library's unittest)"}, nil
		}
	}
	return testCommand{}, nil
}

// npmTest reports whether package.json has a test script other than the
// one `npm init` writes, which only fails.
func npmTest(dir string) (bool, error) {
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("read package.json: %w", err)
	}
	var pkg struct {
		Scripts map[string]string `json:"scripts"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		return false, fmt.Errorf("read package.json: %w: fix it, or pass -test=\"COMMAND ARGS\"", err)
	}
	t := pkg.Scripts["test"]
	return t != "" && !strings.Contains(t, "no test specified"), nil
}

// hasGoPackages reports whether dir has a go.mod and Go files other than
// the ones init writes (mage.go, magefiles/): a go.mod that init wrote for
// the magefiles alone is not a Go app.
func hasGoPackages(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return false
	}
	found := errors.New("found")
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable parts hold no package we could test
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && rel != "." && (rel == "magefiles" || rel == "vendor" || rel == "node_modules" || rel == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && rel != "mage.go" {
			return found
		}
		return nil
	})
	return errors.Is(err, found)
}
