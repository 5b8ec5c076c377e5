package manifest

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/router"
	"gopkg.in/yaml.v3"
)

// examples are the manifests that must load without a problem; the
// schema test validates the same files.
var examples = []string{
	"../../sample-app/slipway.yaml",
	"testdata/examples/minimal/slipway.yaml",
	"testdata/examples/node-shop/slipway.yaml",
	"testdata/examples/go-service/slipway.yaml",
}

func TestExamplesLoad(t *testing.T) {
	tests := []struct {
		name string
		file string
		want Manifest // paths relative to the file's directory
	}{
		{"the sample app takes the go fast path with the values Slipway used before the file", examples[0], Manifest{
			App:       "slipway",
			Build:     Build{Context: ".", Dockerfile: "Dockerfile", Go: "."},
			Port:      8080,
			Health:    Health{Path: "/healthz"},
			Test:      Test{Command: []string{"go", "test", "-count=1", "-json", "./integration"}, Timeout: 10 * time.Minute},
			Resources: Resources{CPU: 256, Memory: 512},
		}},
		{"a file with only the app's name gets every default", examples[1], Manifest{
			App:       "shop",
			Build:     Build{Context: ".", Dockerfile: "Dockerfile"},
			Port:      8080,
			Health:    Health{Path: "/healthz"},
			Test:      Test{Timeout: 10 * time.Minute},
			Resources: Resources{CPU: 256, Memory: 512},
		}},
		{"a file with every key keeps every value, numbers in env as written", examples[2], Manifest{
			App: "shop",
			Build: Build{Context: ".", Dockerfile: "docker/Dockerfile", Target: "runtime",
				Args: map[string]string{"NODE_VERSION": "22", "NPM_FLAGS": "--omit=dev"}},
			Port: 3000,
			Health: Health{Path: "/api/health", Interval: 10 * time.Second, Timeout: 2 * time.Second,
				HealthyThreshold: 2, UnhealthyThreshold: 5, Grace: 30 * time.Second},
			Test:       Test{Command: []string{"npm", "run", "test:e2e", "--", "--reporter=junit"}, JUnit: "reports/junit.xml", Timeout: 5 * time.Minute},
			Env:        map[string]string{"LOG_LEVEL": "info", "FEATURE_CHECKOUT": "true"},
			Preview:    Stage{Env: map[string]string{"LOG_LEVEL": "debug"}},
			Production: Stage{Env: map[string]string{"LOG_LEVEL": "warn"}},
			Secrets: map[string]string{
				"STRIPE_KEY":     "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/stripe-AbCdEf",
				"SESSION_SECRET": "shop/session",
			},
			Resources: Resources{CPU: 512, Memory: 1024},
			Database:  &Database{Migrations: "db/migrations", Migrate: []string{"node", "dist/migrate.js"}, Seed: []string{"node", "dist/seed.js", "--demo"}},
		}},
		{"a go package path is resolved against the file's directory", examples[3], Manifest{
			App:       "orders",
			Build:     Build{Context: ".", Dockerfile: "Dockerfile", Go: "cmd/server"},
			Port:      9090,
			Health:    Health{Path: "/ready"},
			Test:      Test{Command: []string{"go", "test", "-count=1", "./e2e"}, Timeout: 10 * time.Minute},
			Resources: Resources{CPU: 256, Memory: 512},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Load(tt.file)
			if err != nil {
				t.Fatalf("Load(%s):\n%v", tt.file, err)
			}
			dir, _ := filepath.Abs(filepath.Dir(tt.file))
			if m.Dir != dir || m.File != tt.file {
				t.Errorf("Dir %q File %q, want %q %q", m.Dir, m.File, dir, tt.file)
			}
			if got := relative(t, m); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Load(%s) =\n%+v\nwant\n%+v", tt.file, got, tt.want)
			}
		})
	}
}

// relative is m without its place, with its paths relative to its
// directory, after checking they were absolute.
func relative(t *testing.T, m *Manifest) Manifest {
	t.Helper()
	c := *m
	rel := func(p *string) {
		if *p == "" {
			return
		}
		if !filepath.IsAbs(*p) {
			t.Errorf("path %q is not absolute", *p)
		}
		r, err := filepath.Rel(m.Dir, *p)
		if err != nil {
			t.Fatal(err)
		}
		*p = filepath.ToSlash(r)
	}
	rel(&c.Build.Context)
	rel(&c.Build.Dockerfile)
	rel(&c.Build.Go)
	rel(&c.Test.JUnit)
	if c.Database != nil {
		d := *c.Database
		rel(&d.Migrations)
		c.Database = &d
	}
	c.File, c.Dir, c.Root, c.keys = "", "", "", nil
	return c
}

func TestFindLooksUpToTheGitRootOnly(t *testing.T) {
	outer := t.TempDir()
	repo := filepath.Join(outer, "repo")
	deep := filepath.Join(repo, "services", "api")
	mkdirs(t, filepath.Join(repo, ".git"), deep)
	write(t, filepath.Join(outer, FileName), "app: outside\n")

	if got, err := Find(deep); err != nil || got != "" {
		t.Fatalf("Find with no manifest in the repository = %q, %v; want none (the one above the git root does not count)", got, err)
	}
	write(t, filepath.Join(repo, FileName), "app: shop\n")
	if got, err := Find(deep); err != nil || got != filepath.Join(repo, FileName) {
		t.Fatalf("Find(%s) = %q, %v; want the repository's", deep, got, err)
	}
	write(t, filepath.Join(deep, FileName), "app: api\n")
	if got, err := Find(deep); err != nil || got != filepath.Join(deep, FileName) {
		t.Fatalf("Find(%s) = %q, %v; want the nearest", deep, got, err)
	}
}

func TestFindOutsideAGitRepositoryLooksOnlyInTheDirectory(t *testing.T) {
	outer := t.TempDir()
	sub := filepath.Join(outer, "sub")
	mkdirs(t, sub)
	write(t, filepath.Join(outer, FileName), "app: shop\n")
	if gitRoot(outer) != "" {
		t.Skip("the temporary directory is inside a git repository")
	}
	if got, err := Find(sub); err != nil || got != "" {
		t.Fatalf("Find(%s) = %q, %v; want none", sub, got, err)
	}
	if got, err := Find(outer); err != nil || got != filepath.Join(outer, FileName) {
		t.Fatalf("Find(%s) = %q, %v; want the file there", outer, got, err)
	}
}

// The defaults are the values the targets used before the manifest.
func TestDefaultsAreTheTargetsValuesBeforeTheManifest(t *testing.T) {
	if DefaultPort != infra.DefaultContainerPort {
		t.Errorf("port %d; infra has %d", DefaultPort, infra.DefaultContainerPort)
	}
	for _, p := range []string{infra.DefaultHealthPath, router.DefaultHealthPath} {
		if p != DefaultHealthPath {
			t.Errorf("health path %s; infra or the router has %s", DefaultHealthPath, p)
		}
	}
	if DefaultCPU != infra.DefaultCPU || DefaultMemory != infra.DefaultMemory {
		t.Errorf("cpu %d memory %d; infra has %d %d", DefaultCPU, DefaultMemory, infra.DefaultCPU, infra.DefaultMemory)
	}
	// The aws health settings are the deploy template's parameters; their
	// defaults are what a stack gets without a manifest.
	tmpl, err := os.ReadFile("../../infra/deploy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Parameters map[string]struct {
			Default string `yaml:"Default"`
		} `yaml:"Parameters"`
	}
	var root yaml.Node
	if err := yaml.Unmarshal(tmpl, &root); err != nil {
		t.Fatal(err)
	}
	for i, n := range root.Content[0].Content { // only Parameters: the rest holds CloudFormation's tags
		if n.Value == "Parameters" {
			params := yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{n, root.Content[0].Content[i+1]}}
			if err := params.Decode(&doc); err != nil {
				t.Fatal(err)
			}
		}
	}
	for param, want := range map[string]string{
		"HealthInterval": secs(AWSHealth.Interval), "HealthTimeout": secs(AWSHealth.Timeout),
		"HealthyThreshold": strconv.Itoa(AWSHealth.HealthyThreshold), "UnhealthyThreshold": strconv.Itoa(AWSHealth.UnhealthyThreshold),
	} {
		if got := doc.Parameters[param].Default; got != want {
			t.Errorf("infra/deploy.yaml's %s defaults to %q, AWSHealth says %s: they disagree", param, got, want)
		}
	}
	// The grace is a template parameter now, defaulted in infra.
	if AWSHealth.Grace != infra.DefaultHealthGrace {
		t.Errorf("aws grace %s; infra's default is %s", AWSHealth.Grace, infra.DefaultHealthGrace)
	}
}

func TestEnvironmentPutsTheStageOnTop(t *testing.T) {
	m, err := Load("testdata/examples/node-shop/slipway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Environment(false); got["LOG_LEVEL"] != "debug" || got["FEATURE_CHECKOUT"] != "true" || got["STRIPE_KEY"] != "" {
		t.Errorf("preview environment %v", got)
	}
	if got := m.Environment(true); got["LOG_LEVEL"] != "warn" {
		t.Errorf("production environment %v", got)
	}
	if m.Env["LOG_LEVEL"] != "info" {
		t.Errorf("Environment changed the file's env: %v", m.Env)
	}
}

func TestHealthOrTakesWhatTheFileLeavesOutFromTheTarget(t *testing.T) {
	m := parse(t, "health:\n  interval: 2s\n  grace: 0s\n")
	got := m.HealthOr(AWSHealth)
	want := AWSHealth
	want.Interval, want.Grace = 2*time.Second, 0
	if got != want {
		t.Errorf("HealthOr(AWSHealth) = %+v, want %+v", got, want)
	}
	if m.Line("health.interval") != 2 || m.Line("health.timeout") != 0 {
		t.Errorf("Line: interval %d, timeout %d", m.Line("health.interval"), m.Line("health.timeout"))
	}
}

// parse parses a manifest in a fresh repository (fixture).
func parse(t *testing.T, text string) *Manifest {
	t.Helper()
	m, err := Parse(FileName, []byte(text), fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fixture is <repo>/app holding a Dockerfile, in a repository <repo>.
func fixture(t *testing.T) string {
	t.Helper()
	repo := t.TempDir()
	app := filepath.Join(repo, "app")
	mkdirs(t, filepath.Join(repo, ".git"), app)
	write(t, filepath.Join(app, "Dockerfile"), "FROM scratch\n")
	return app
}

func mkdirs(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func secs(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }
