package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaultsWithNoAWSAccountAreLocal(t *testing.T) {
	c, err := Load(envOf(map[string]string{"HOME": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Target != TargetLocal || c.App != "slipway" || c.RouterPort != 8080 || c.Retention != 336*time.Hour {
		t.Fatalf("defaults: %+v", c)
	}
	if got := c.URL(c.PreviewHost("pr-42")); got != "http://pr-42.slipway.localhost:8080" {
		t.Fatalf("preview URL %q", got)
	}
}

func TestTargetDetection(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aws", "config"), []byte("[default]\nregion=eu-west-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"a profile variable alone stays local", map[string]string{"AWS_PROFILE": "dev"}, TargetLocal},
		{"OIDC web identity alone stays local", map[string]string{"AWS_WEB_IDENTITY_TOKEN_FILE": "/tmp/t"}, TargetLocal},
		{"a shared config file alone stays local", map[string]string{"HOME": home}, TargetLocal},
		{"SLIPWAY_TARGET=aws selects aws", map[string]string{"SLIPWAY_TARGET": "aws", "HOME": t.TempDir()}, TargetAWS},
		{"explicit local with credentials", map[string]string{"AWS_PROFILE": "dev", "SLIPWAY_TARGET": "local"}, TargetLocal},
		{"nothing configured means local", map[string]string{"HOME": t.TempDir()}, TargetLocal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.Target != tt.want {
				t.Fatalf("target %q (%s), want %q", c.Target, c.TargetDetected, tt.want)
			}
			how := "set SLIPWAY_TARGET=aws"
			if tt.want == TargetAWS {
				how = "unset it for the local target"
			}
			if !strings.Contains(c.TargetDetected, how) {
				t.Fatalf("config does not say how to switch the target: %q, want %q", c.TargetDetected, how)
			}
		})
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	_, err := Load(envOf(map[string]string{
		"SLIPWAY_APP":               "Bad;App",
		"SLIPWAY_TARGET":            "gcp",
		"SLIPWAY_ROUTER_PORT":       "99999",
		"SLIPWAY_RETENTION":         "two weeks",
		"SLIPWAY_KEEP_RELEASES":     "-1",
		"SLIPWAY_DOMAIN":            "exa mple",
		"SLIPWAY_REGISTRY_PASSWORD": "x",
	}))
	if err == nil {
		t.Fatal("bad settings were accepted")
	}
	for _, want := range []string{"SLIPWAY_APP", "SLIPWAY_TARGET", "SLIPWAY_ROUTER_PORT", "SLIPWAY_RETENTION", "SLIPWAY_KEEP_RELEASES", "SLIPWAY_DOMAIN", "SLIPWAY_REGISTRY_USER"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

// App names that would put the app inside another app's IAM scope, or
// give its load balancer a name AWS refuses, are refused naming SLIPWAY_APP.
func TestAppNamesThatCollideAreRefused(t *testing.T) {
	for app, want := range map[string]string{
		"shop-pr":  "app shop's shop-pr-* stacks",
		"internal": `start with "internal-"`,
	} {
		_, err := Load(envOf(map[string]string{"SLIPWAY_APP": app}))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "set SLIPWAY_APP") {
			t.Errorf("SLIPWAY_APP=%s: %v, want an error saying %q and naming SLIPWAY_APP", app, err, want)
		}
	}
}

func TestPrintRedactsSecrets(t *testing.T) {
	c, err := LoadFrom(envOf(map[string]string{
		"HOME": t.TempDir(), "SLIPWAY_APP": "shop", "GH_TOKEN": "ghp_supersecret",
		"SLIPWAY_REGISTRY_USER": "ci", "SLIPWAY_REGISTRY_PASSWORD": "hunter2",
	}), "")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Print(&b, c); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "ghp_supersecret") || strings.Contains(out, "hunter2") {
		t.Fatalf("secret printed:\n%s", out)
	}
	golden(t, "print.golden", out)
}

func TestDurationProblemsSayWhatIsWrong(t *testing.T) {
	tests := []struct{ value, want, notWant string }{
		{"-1s", "SLIPWAY_HEALTH_TIMEOUT=-1s: it must be positive", "not a duration"},
		{"0s", "SLIPWAY_HEALTH_TIMEOUT=0s: it must be positive", "not a duration"},
		{"a minute", `SLIPWAY_HEALTH_TIMEOUT="a minute" is not a duration`, "positive"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			_, err := Load(envOf(map[string]string{"HOME": t.TempDir(), "SLIPWAY_HEALTH_TIMEOUT": tt.value}))
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), tt.notWant) {
				t.Fatalf("SLIPWAY_HEALTH_TIMEOUT=%s: got %v, want %q", tt.value, err, tt.want)
			}
		})
	}
}

// Every variable Slipway reads is documented in the README's table.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings {
		for _, name := range strings.Split(s.Env, " / ") {
			if !strings.Contains(string(readme), "`"+name+"`") {
				t.Errorf("README.md does not document %s (%s)", name, s.Help)
			}
		}
	}
}

func TestStackPorts(t *testing.T) {
	tests := map[string]struct {
		env     map[string]string
		want    string
		wantErr []string
	}{
		"the default is clear of the router's ports": {env: map[string]string{}, want: "18100-18119"},
		"a range of the user's":                      {env: map[string]string{"SLIPWAY_ROUTER_STACK_PORTS": "19000-19499"}, want: "19000-19499"},
		"a range over the router's port says which": {env: map[string]string{"SLIPWAY_ROUTER_STACK_PORTS": "8000-8100"},
			wantErr: []string{"SLIPWAY_ROUTER_STACK_PORTS=8000-8100 includes SLIPWAY_ROUTER_PORT 8080", "includes SLIPWAY_ROUTER_ADMIN_PORT 8081"}},
		"a malformed range says the form": {env: map[string]string{"SLIPWAY_ROUTER_STACK_PORTS": "many"},
			wantErr: []string{"SLIPWAY_ROUTER_STACK_PORTS=many", "first-last"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := LoadFrom(envOf(tc.env), "")
			if len(tc.wantErr) > 0 {
				for _, w := range tc.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Fatalf("err = %v, want it to say %q", err, w)
					}
				}
				return
			}
			if err != nil || c.StackPorts.String() != tc.want {
				t.Fatalf("stack ports %v (%v), want %s", c.StackPorts, err, tc.want)
			}
		})
	}
}
