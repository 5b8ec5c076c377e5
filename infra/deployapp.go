package infra

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// What the app's manifest (slipway.yaml) puts into a deploy stack beyond
// the fixed template: its environment's names and its secrets' ARNs,
// written into the template text by Template; its health check and
// architecture, passed as parameters.

// The task's CPU architectures (the task definition's
// RuntimePlatform.CpuArchitecture).
const (
	ArchX86   = "X86_64"
	ArchARM64 = "ARM64"
)

// architectures maps an image's platform to the task's architecture. ""
// is an image built before Slipway recorded platforms: X86_64, which is
// what Fargate runs without a RuntimePlatform.
var architectures = map[string]string{"": ArchX86, "linux/amd64": ArchX86, "linux/arm64": ArchARM64, "linux/arm64/v8": ArchARM64}

// Architecture returns the task architecture an image platform runs on,
// or an error for a platform Fargate cannot run.
func Architecture(platform string) (string, error) {
	if a, ok := architectures[platform]; ok {
		return a, nil
	}
	return "", errf("image platform %q: Fargate runs linux/amd64 or linux/arm64 images; build for one of them (docker build --platform linux/amd64)", platform)
}

// Markers in deploy.yaml that Template replaces.
const (
	markEnvParams  = "  # slipway:env-parameters\n"
	markEnv        = "            # slipway:env\n"
	markSecrets    = "          # slipway:secrets-begin\n"
	markSecretsEnd = "          # slipway:secrets-end\n"
)

var appSecretARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+|ssm:[a-z0-9-]+:[0-9]{12}:parameter/[A-Za-z0-9/_.-]+)$`)

// Template is the deploy template for these settings: deploy.yaml with
// one NoEcho parameter per environment value and the names and secret
// ARNs written into the container definition. It checks the settings as
// Parameters does.
func (p DeployParams) Template() (string, error) {
	p = p.withDefaults()
	if err := p.validate(); err != nil {
		return "", err
	}
	var params, env strings.Builder
	for i, k := range sortedKeys(p.Env) {
		fmt.Fprintf(&params, "  %s:\n    Type: String\n    NoEcho: true\n    Description: Value of %s.\n", envParam(i), k)
		fmt.Fprintf(&env, "            - Name: %s\n              Value: !Ref %s\n", quote(k), envParam(i))
	}
	t := DeployTemplate()
	if len(p.Secrets) > 0 {
		b, e := strings.Index(t, markSecrets), strings.Index(t, markSecretsEnd)
		if b < 0 || e < b {
			panic("infra: deploy.yaml lost its secrets markers")
		}
		t = t[:b] + p.secretsProperty() + t[e+len(markSecretsEnd):]
	}
	for mark, text := range map[string]string{markEnvParams: params.String(), markEnv: env.String()} {
		if !strings.Contains(t, mark) {
			panic("infra: deploy.yaml lost its marker " + strings.TrimSpace(mark))
		}
		t = strings.Replace(t, mark, text, 1)
	}
	return t, nil
}

// secretsProperty is the container's Secrets with the app's: the
// database URL's first when the stack has one. (A list item that is
// !If ... AWS::NoValue would do, but moto keeps it as an empty entry.)
func (p DeployParams) secretsProperty() string {
	var app strings.Builder
	for _, k := range sortedKeys(p.Secrets) {
		fmt.Fprintf(&app, "              - Name: %s\n                ValueFrom: %s\n", quote(k), quote(p.Secrets[k]))
	}
	return "          Secrets: !If\n            - HasDatabaseSecret\n" +
		"            - - Name: DATABASE_URL\n                ValueFrom: !Ref DatabaseSecretArn\n" +
		app.String() +
		"            -\n" + app.String()
}

// envParam names the parameter of the i-th (sorted) environment value.
func envParam(i int) string { return fmt.Sprintf("EnvValue%d", i+1) }

// quote is s as a YAML scalar (JSON's quoting is YAML's).
func quote(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a string always marshals
	}
	return string(b)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (p DeployParams) healthDefaults() DeployParams {
	if p.HealthInterval == 0 {
		p.HealthInterval = 5 * time.Second
	}
	if p.HealthTimeout == 0 {
		p.HealthTimeout = min(4*time.Second, p.HealthInterval-time.Second)
	}
	if p.HealthyThreshold == 0 {
		p.HealthyThreshold = 2
	}
	if p.UnhealthyThreshold == 0 {
		p.UnhealthyThreshold = 2
	}
	return p
}

// validateApp checks what the manifest sets against the ALB's and ECS's
// limits (Elastic Load Balancing API Reference, CreateTargetGroup).
func (p DeployParams) validateApp() error {
	if _, err := Architecture(p.Platform); err != nil {
		return err
	}
	in, to := p.HealthInterval, p.HealthTimeout
	if in%time.Second != 0 || in < 5*time.Second || in > 300*time.Second {
		return errf("health.interval %s: the ALB checks every 5-300 whole seconds", in)
	}
	if to%time.Second != 0 || to < 2*time.Second || to > 120*time.Second || to >= in {
		return errf("health.timeout %s: the ALB waits 2-120 whole seconds, less than health.interval (%s)", to, in)
	}
	for k, n := range map[string]int{"health.healthy_threshold": p.HealthyThreshold, "health.unhealthy_threshold": p.UnhealthyThreshold} {
		if n < 2 || n > 10 {
			return errf("%s %d: the ALB takes 2-10", k, n)
		}
	}
	for k, arn := range p.Secrets {
		if !envNameRe.MatchString(k) {
			return errf("secret name %q: want letters, digits and underscores, not starting with a digit", k)
		}
		if reserved[k] {
			return errf("secret %s: the name is set by Slipway itself; choose another", k)
		}
		if _, ok := p.Env[k]; ok {
			return errf("%s is both in env and in secrets: keep one", k)
		}
		if !appSecretARNRe.MatchString(arn) {
			return errf("secret %s: %q is not the ARN of a Secrets Manager secret or an SSM parameter (resolve names first)", k, arn)
		}
	}
	return nil
}
