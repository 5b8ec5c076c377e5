package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// app writes slipway.yaml (and a Dockerfile) into a fresh repository and
// returns its directory.
func app(t *testing.T, manifest string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{".git/HEAD": "ref: refs/heads/main\n", "Dockerfile": "FROM scratch\n", "slipway.yaml": manifest} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPrecedenceIsVariableThenFileThenDefault(t *testing.T) {
	const file = "app: shop\nresources:\n  cpu: 512\n  memory: 1024\nport: 3000\ndatabase:\n  migrate: [./app, migrate]\n"
	tests := []struct {
		name     string
		manifest string // "" for none
		env      map[string]string
		setting  string
		get      func(Config) any
		want     any
		source   string
	}{
		{"the variable wins over the file", file, map[string]string{"SLIPWAY_APP": "web"}, "SLIPWAY_APP", func(c Config) any { return c.App }, "web", "SLIPWAY_APP (environment)"},
		{"the file wins over the default", file, nil, "SLIPWAY_APP", func(c Config) any { return c.App }, "shop", "slipway.yaml:1"},
		{"the default without the key", "port: 3000\n", nil, "SLIPWAY_APP", func(c Config) any { return c.App }, "slipway", "default"},
		{"the default without a file", "", nil, "SLIPWAY_APP", func(c Config) any { return c.App }, "slipway", "default"},
		{"the effective manifest carries the variable", file, map[string]string{"SLIPWAY_APP": "web"}, "SLIPWAY_APP", func(c Config) any { return c.Manifest.App }, "web", "SLIPWAY_APP (environment)"},
		{"resources.cpu from the file", file, nil, "SLIPWAY_AWS_CPU", func(c Config) any { return c.AWS.CPU }, 512, "slipway.yaml:3"},
		{"SLIPWAY_AWS_MEMORY over resources.memory", file, map[string]string{"SLIPWAY_AWS_MEMORY": "2048"}, "SLIPWAY_AWS_MEMORY", func(c Config) any { return c.Manifest.Resources.Memory }, 2048, "SLIPWAY_AWS_MEMORY (environment)"},
		{"a key with no variable comes from the file", file, nil, "port", func(c Config) any { return c.Manifest.Port }, 3000, "slipway.yaml:5"},
		{"a key with no variable and no file is the default", "", nil, "port", func(c Config) any { return c.Manifest.Port }, 8080, "default"},
		{"database in the file turns the database on", file, nil, "SLIPWAY_DATABASE", func(c Config) any { return c.database }, true, "slipway.yaml:6"},
		{"SLIPWAY_DATABASE=0 turns it off over the file", file, map[string]string{"SLIPWAY_DATABASE": "0"}, "SLIPWAY_DATABASE", func(c Config) any { return c.database }, false, "SLIPWAY_DATABASE (environment)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.manifest != "" {
				dir = app(t, tt.manifest)
			}
			c, err := LoadFrom(envOf(tt.env), dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(c); got != tt.want {
				t.Errorf("value %v, want %v", got, tt.want)
			}
			if got := c.Source(tt.setting).String(); got != tt.source {
				t.Errorf("Source(%s) = %s, want %s", tt.setting, got, tt.source)
			}
		})
	}
}

func TestLoadDatabaseFollowsTheManifest(t *testing.T) {
	dir := app(t, "database: {}\n")
	for env, want := range map[string]bool{"": true, "0": false, "1": true} {
		d, err := LoadDatabaseFrom(envOf(map[string]string{"SLIPWAY_DATABASE": env}), dir)
		if err != nil || d.On != want {
			t.Errorf("SLIPWAY_DATABASE=%q with database in the file: on %v, %v; want %v", env, d.On, err, want)
		}
	}
	if d, err := LoadDatabaseFrom(envOf(nil), t.TempDir()); err != nil || d.On {
		t.Errorf("no file, no variable: on %v, %v", d.On, err)
	}
}

// Without a slipway.yaml the configuration is the one the environment
// alone gave before the manifest.
func TestWithoutAManifestTheConfigurationIsTheEnvironmentsAlone(t *testing.T) {
	env := envOf(map[string]string{"HOME": t.TempDir(), "SLIPWAY_APP": "shop", "SLIPWAY_TARGET": "aws", "SLIPWAY_AWS_CPU": "1024"})
	none, err := LoadFrom(env, "")
	if err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{"a repository without one": repo, "the working directory (internal/config)": "."} {
		c, err := LoadFrom(env, dir)
		if err != nil {
			t.Fatal(err)
		}
		if c.Manifest.Found() || !reflect.DeepEqual(c, none) {
			t.Errorf("%s: %+v\nwant %+v", name, c, none)
		}
	}
	if c, err := Load(env); err != nil || !reflect.DeepEqual(c, none) {
		t.Errorf("Load from the working directory: %+v, %v", c, err)
	}
}

func TestManifestProblemsJoinTheVariablesProblems(t *testing.T) {
	dir := app(t, "app: Shop\nprot: 3000\n")
	_, err := LoadFrom(envOf(map[string]string{"SLIPWAY_ROUTER_PORT": "99999"}), dir)
	if err == nil {
		t.Fatal("accepted")
	}
	want := []string{
		`slipway.yaml:1:6: app: invalid app name "Shop"`,
		`slipway.yaml:2:1: unknown key "prot" (did you mean "port"?)`,
		`SLIPWAY_ROUTER_PORT="99999" is not a port`,
	}
	for _, w := range want {
		if strings.Count(err.Error(), w) != 1 {
			t.Errorf("want once %q in:\n%v", w, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != len(want) {
		t.Errorf("%d lines, want one per problem:\n%v", n, err)
	}
}

func TestTheFileIsNamedFromTheDirectoryItWasFoundFrom(t *testing.T) {
	dir := app(t, "app: shop\n")
	sub := filepath.Join(dir, "src", "api")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := LoadFrom(envOf(nil), sub)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Source("SLIPWAY_APP").String(); got != "../../slipway.yaml:1" {
		t.Errorf("source %q", got)
	}
}

func TestAWSRefusesAHealthCheckAnALBCannotRun(t *testing.T) {
	dir := app(t, "health:\n  interval: 1s\n  timeout: 3s\n  healthy_threshold: 1\n")
	env := map[string]string{"HOME": t.TempDir()}
	if _, err := LoadFrom(envOf(env), dir); err != nil {
		t.Fatalf("the local target takes it: %v", err)
	}
	env["SLIPWAY_TARGET"] = "aws"
	_, err := LoadFrom(envOf(env), dir)
	want := "slipway.yaml:2: health.interval: the aws target checks every 5s to 5m0s, in whole seconds; got 1s\n" +
		"slipway.yaml:3: health.timeout 3s must be shorter than health.interval 1s on the aws target\n" +
		"slipway.yaml:4: health.healthy_threshold: the aws target counts 2 to 10 checks; got 1"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestHealthDefaultsAreTheTargets(t *testing.T) {
	dir := app(t, "health:\n  path: /up\n")
	c, err := LoadFrom(envOf(map[string]string{"HOME": t.TempDir(), "SLIPWAY_TARGET": "aws"}), dir)
	if err != nil {
		t.Fatal(err)
	}
	h := c.Manifest.Health
	if h.Path != "/up" || h.Interval.String() != "5s" || h.Grace.String() != "10s" || h.HealthyThreshold != 2 {
		t.Errorf("aws health %+v", h)
	}
	if c.Source("health.path").String() != "slipway.yaml:2" || c.Source("health.interval").String() != "default" {
		t.Errorf("sources %s %s", c.Source("health.path"), c.Source("health.interval"))
	}
}

// `config` with a manifest: every setting, its source, no secret value
// (the local secret's variable is set and must not appear).
func TestPrintWithAManifest(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "shop"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadFrom(envOf(map[string]string{
		"HOME": t.TempDir(), "SLIPWAY_TARGET": "aws", "SLIPWAY_AWS_MEMORY": "2048",
		"STRIPE_KEY": "sk_live_supersecret", "GH_TOKEN": "ghp_supersecret",
	}), dir)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Print(&b, c); err != nil {
		t.Fatal(err)
	}
	out := strings.ReplaceAll(b.String(), dir, "$APP")
	if strings.Contains(out, "supersecret") {
		t.Fatalf("secret printed:\n%s", out)
	}
	golden(t, "print-manifest.golden", out)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test ./internal/config -update): %v", err)
	}
	if got != string(want) {
		t.Fatalf("config output changed (go test ./internal/config -update to accept):\n%s", got)
	}
}

// BenchmarkLoadFrom is the whole configuration with and without a
// manifest: the difference is what slipway.yaml adds to a target's start.
func BenchmarkLoadFrom(b *testing.B) {
	env := envOf(map[string]string{"HOME": b.TempDir()})
	for name, dir := range map[string]string{"without a manifest": "", "with testdata/shop": filepath.Join("testdata", "shop")} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := LoadFrom(env, dir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
