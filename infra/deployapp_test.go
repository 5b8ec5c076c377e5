package infra

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// manifestApp is a preview of an app that is not the sample: its own
// port, health check, a dozen variables, two secrets (one of each kind)
// and an arm64 image.
func manifestApp() DeployParams {
	env := map[string]string{}
	for i := range 12 {
		env[fmt.Sprintf("SHOP_SETTING_%02d", i)] = fmt.Sprintf("value %d: with 'quotes' and \"more\"", i)
	}
	return DeployParams{Stack: "shop-pr-9", Role: RolePreview, Image: digestRef, Env: env,
		Secrets: map[string]string{
			"STRIPE_KEY": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/pr-stripe-AbCdEf",
			"SMTP_PASS":  "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/smtp/password",
		},
		Platform: "linux/arm64", ContainerPort: 3000, HealthPath: "/up",
		HealthInterval: 10 * time.Second, HealthTimeout: 5 * time.Second, HealthyThreshold: 3, UnhealthyThreshold: 4,
		HealthGrace: 45 * time.Second, Priority: 109, ListenerPort: 8009, Shared: sharedOut()}
}

// The template rendered for an app's manifest is checked against its
// golden file, which TestTemplatesPassCfnLint lints.
func TestDeployTemplateRenderedForManifestApp(t *testing.T) {
	p := manifestApp()
	tpl, err := p.Template()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "deploy-manifest-app.yaml", tpl)
	ps, err := p.Parameters()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "deploy-manifest-app.golden", render(ps))

	doc := decodeTemplate(t, "rendered", tpl)
	declared := doc["Parameters"].(map[string]any)
	for _, q := range ps { // every parameter passed is declared, and the other way round
		if _, ok := declared[*q.ParameterKey]; !ok {
			t.Errorf("parameter %s is passed but not declared", *q.ParameterKey)
		}
	}
	if len(declared) != len(ps) {
		t.Errorf("%d parameters declared, %d passed", len(declared), len(ps))
	}
	c := at(t, doc, "Resources", "TaskDefinition", "Properties", "ContainerDefinitions", "#0").(map[string]any)
	env := c["Environment"].([]any)
	if len(env) != 2+len(p.Env) {
		t.Fatalf("%d environment entries, want SLIPWAY_STACK, PORT and %d", len(env), len(p.Env))
	}
	if got, want := env[2], map[string]any{"Name": "SHOP_SETTING_00", "Value": ref("EnvValue1")}; !reflect.DeepEqual(got, want) {
		t.Errorf("first app variable: %#v, want %#v", got, want)
	}
	if strings.Contains(tpl, "with 'quotes'") {
		t.Error("an environment value is in the template text: values travel as NoEcho parameters only")
	}
	secrets := at(t, c, "Secrets", "Fn::If").([]any) // [condition, with the database's, without]
	if got, want := secrets[2], []any{
		map[string]any{"Name": "SMTP_PASS", "ValueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/smtp/password"},
		map[string]any{"Name": "STRIPE_KEY", "ValueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/pr-stripe-AbCdEf"},
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("secrets: %#v\nwant %#v", got, want)
	}
	if with := secrets[1].([]any); len(with) != 3 || !reflect.DeepEqual(with[1:], secrets[2]) {
		t.Errorf("secrets with a database: %#v, want DATABASE_URL and the app's", with)
	}
	pm := paramMap(ps)
	for k, want := range map[string]string{"ContainerPort": "3000", "HealthPath": "/up", "HealthInterval": "10", "HealthTimeout": "5",
		"HealthyThreshold": "3", "UnhealthyThreshold": "4", "HealthCheckGracePeriod": "45", "CpuArchitecture": "ARM64",
		"CapacityProvider": "FARGATE"} { // Fargate Spot runs X86_64 only
		if pm[k] != want {
			t.Errorf("parameter %s = %q, want %q", k, pm[k], want)
		}
	}
}

// The environment's values are NoEcho parameters: CloudFormation then
// answers "****" for them to every call that describes the stack or its
// events (CloudFormation User Guide, "Parameters section", NoEcho), and the
// preview role may call DescribeStacks on every stack of the account
// (listing stacks is authorized against *), so production's settings would
// otherwise be one call away from any branch. (moto 5.2.5 does not mask
// NoEcho values; checked on the template.)
func TestDeployTemplateHidesEnvironmentValues(t *testing.T) {
	tpl, err := manifestApp().Template()
	if err != nil {
		t.Fatal(err)
	}
	params := decodeTemplate(t, "rendered", tpl)["Parameters"].(map[string]any)
	n := 0
	for k, v := range params {
		noEcho := v.(map[string]any)["NoEcho"] == "true"
		if isValue := strings.HasPrefix(k, "EnvValue"); noEcho != isValue {
			t.Errorf("%s: NoEcho %v: want it on exactly the environment's values (the tool reads the others back)", k, noEcho)
		}
		if noEcho {
			n++
		}
	}
	if n != 12 {
		t.Errorf("%d NoEcho values, want 12", n)
	}
}

// The most variables a stack takes stay within CloudFormation's 200
// parameters a template (CloudFormation User Guide, "Quotas").
func TestDeployTemplateTakesMaxEnv(t *testing.T) {
	p := manifestApp()
	p.Env = map[string]string{}
	for i := range MaxEnv {
		p.Env[fmt.Sprintf("V%03d", i)] = "x"
	}
	ps, err := p.Parameters()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) > 200 {
		t.Errorf("%d parameters: CloudFormation takes 200", len(ps))
	}
	p.Env["ONE_TOO_MANY"] = "x"
	if _, err := p.Template(); err == nil || !strings.Contains(err.Error(), "at most 150") {
		t.Errorf("%d variables: got %v, want a refusal", len(p.Env), err)
	}
}

func TestDeployParamsRefuseWhatAWSRefuses(t *testing.T) {
	cases := []struct {
		name string
		edit func(*DeployParams)
		want string
	}{
		{"a platform Fargate cannot run", func(p *DeployParams) { p.Platform = "windows/amd64" }, `image platform "windows/amd64": Fargate runs linux/amd64 or linux/arm64`},
		{"a threshold of one (the ALB takes 2-10)", func(p *DeployParams) { p.HealthyThreshold = 1 }, "health.healthy_threshold 1: the ALB takes 2-10"},
		{"a timeout as long as the interval", func(p *DeployParams) { p.HealthTimeout = 10 * time.Second }, "health.timeout 10s"},
		{"an interval under 5 s", func(p *DeployParams) { p.HealthInterval = 2 * time.Second }, "health.interval 2s"},
		{"a secret by name, not resolved", func(p *DeployParams) { p.Secrets["STRIPE_KEY"] = "shop/stripe" }, `secret STRIPE_KEY: "shop/stripe" is not the ARN`},
		{"a variable both in env and in secrets", func(p *DeployParams) { p.Env["STRIPE_KEY"] = "x" }, "STRIPE_KEY is both in env and in secrets"},
		{"a secret named PORT", func(p *DeployParams) { p.Secrets["PORT"] = p.Secrets["SMTP_PASS"] }, "secret PORT: the name is set by Slipway"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := manifestApp()
			c.edit(&p)
			if _, err := p.Template(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// An image without a recorded platform (built before Slipway recorded
// it) runs on X86_64, Fargate's default, and a preview of it on Spot.
func TestDeployParamsArchitectureFromPlatform(t *testing.T) {
	for platform, want := range map[string][2]string{"": {ArchX86, CapacitySpot}, "linux/amd64": {ArchX86, CapacitySpot}, "linux/arm64": {ArchARM64, CapacityOnDemand}} {
		p := previewPort()
		p.Platform = platform
		ps, err := p.Parameters()
		if err != nil {
			t.Fatal(err)
		}
		if m := paramMap(ps); m["CpuArchitecture"] != want[0] || m["CapacityProvider"] != want[1] {
			t.Errorf("platform %q: %s on %s, want %s on %s", platform, m["CpuArchitecture"], m["CapacityProvider"], want[0], want[1])
		}
	}
}

func paramMap(ps []cfntypes.Parameter) map[string]string {
	m := map[string]string{}
	for _, p := range ps {
		m[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return m
}
