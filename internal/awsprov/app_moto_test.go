package awsprov

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/manifest"
)

// An app that is not the sample (port 3000, /up checked every 10 s, two
// secrets, an arm64 image) is deployed from its manifest's settings, and
// what AWS would run is read back: the task definition's port, PORT and
// secrets by ARN, the target group's port and health check, the task's
// architecture. (moto 5.2.5 keeps a task definition's container
// definitions but drops RuntimePlatform, research/moto.md; the
// architecture is read back from the stack's parameter and template.)
func TestManifestAppOnMoto(t *testing.T) {
	e := newAWSEnv(t)
	ctx := context.Background()
	base := e.provider("mapp", "")
	sm := secretsmanager.NewFromConfig(motoConfig(e.endpoint()))
	p := New(Clients{CFN: base.cfn, ELB: base.elb, ECS: base.ecs, DB: DBClients{Secrets: sm}}, base.o)
	must(t, p.EnsureShared(ctx))
	sec, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("mapp/pr-stripe"), SecretString: aws.String("sk_test_not_in_any_output")})
	must(t, err)

	spec := previewSpec("mapp", 5, "")
	spec.Port, spec.Platform = 3000, "linux/arm64"
	spec.Health = manifest.Health{Path: "/up", Interval: 10 * time.Second, Timeout: 5 * time.Second, HealthyThreshold: 3, UnhealthyThreshold: 4, Grace: 45 * time.Second}
	spec.Secrets = map[string]string{"STRIPE_KEY": "mapp/pr-stripe", "SMTP_PASS": "/mapp/smtp/password"}
	spec.Env = map[string]string{"APP_MESSAGE": "hi", "FEATURE_A": "on", "FEATURE_B": "off"}
	st, err := p.Deploy(ctx, spec)
	must(t, err)
	defer func() { must(t, p.Delete(ctx, st.Name)) }()

	outs := stackOutputs(t, e, st.Name)
	td, err := ecs.NewFromConfig(motoConfig(e.endpoint())).DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(outs[infra.OutputDeployTaskDefinition])})
	must(t, err)
	if rp := td.TaskDefinition.RuntimePlatform; rp != nil && rp.CpuArchitecture != "ARM64" { // when moto keeps it
		t.Errorf("RuntimePlatform %+v, want ARM64", rp)
	}
	c := td.TaskDefinition.ContainerDefinitions[0]
	if len(c.PortMappings) != 1 || aws.ToInt32(c.PortMappings[0].ContainerPort) != 3000 {
		t.Errorf("port mappings %+v, want 3000", c.PortMappings)
	}
	env := map[string]string{}
	for _, kv := range c.Environment {
		env[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
	}
	if env["PORT"] != "3000" || env["FEATURE_A"] != "on" || env["FEATURE_B"] != "off" || env["APP_MESSAGE"] != "hi" {
		t.Errorf("environment %v, want PORT=3000 and the app's three variables", env)
	}
	secrets := map[string]string{}
	for _, s := range c.Secrets {
		secrets[aws.ToString(s.Name)] = aws.ToString(s.ValueFrom)
	}
	wantSSM := "arn:aws:ssm:us-east-1:123456789012:parameter/mapp/smtp/password"
	if secrets["STRIPE_KEY"] != aws.ToString(sec.ARN) || secrets["SMTP_PASS"] != wantSSM || len(secrets) != 2 {
		t.Errorf("secrets %v, want STRIPE_KEY from %s and SMTP_PASS from %s", secrets, aws.ToString(sec.ARN), wantSSM)
	}

	tgs, err := elbv2.NewFromConfig(motoConfig(e.endpoint())).DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{outs[infra.OutputDeployTargetGroupARN]}})
	must(t, err)
	tg := tgs.TargetGroups[0]
	if aws.ToInt32(tg.Port) != 3000 || aws.ToString(tg.HealthCheckPath) != "/up" || aws.ToInt32(tg.HealthCheckIntervalSeconds) != 10 ||
		aws.ToInt32(tg.HealthCheckTimeoutSeconds) != 5 || aws.ToInt32(tg.HealthyThresholdCount) != 3 || aws.ToInt32(tg.UnhealthyThresholdCount) != 4 {
		t.Errorf("target group: port %d, %s every %ds, timeout %ds, healthy after %d, unhealthy after %d; want 3000, /up, 10, 5, 3, 4",
			aws.ToInt32(tg.Port), aws.ToString(tg.HealthCheckPath), aws.ToInt32(tg.HealthCheckIntervalSeconds),
			aws.ToInt32(tg.HealthCheckTimeoutSeconds), aws.ToInt32(tg.HealthyThresholdCount), aws.ToInt32(tg.UnhealthyThresholdCount))
	}
	for k, want := range map[string]string{"CpuArchitecture": "ARM64", "CapacityProvider": "FARGATE", "HealthCheckGracePeriod": "45"} {
		if got := stackParam(t, e, st.Name, k); got != want {
			t.Errorf("stack parameter %s = %q, want %q", k, got, want)
		}
	}
	tpl, err := cloudformation.NewFromConfig(motoConfig(e.endpoint())).GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String(st.Name)})
	must(t, err)
	if body := aws.ToString(tpl.TemplateBody); !strings.Contains(body, "CpuArchitecture: !Ref CpuArchitecture") || strings.Contains(body, "sk_test") {
		t.Error("the stack's template sets no RuntimePlatform from CpuArchitecture, or holds a secret's value")
	}
	log := e.log.String()
	for _, want := range []string{
		"mapp-pr-5: linux/arm64 image: the preview runs on regular Fargate (Fargate Spot runs X86_64 tasks only)",
		"mapp-pr-5: warning: secret SMTP_PASS (" + wantSSM + "): the preview task execution role reads only mapp/pr-*: grant it ssm:GetParameters",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "secret STRIPE_KEY (") {
		t.Error("a warning about STRIPE_KEY, which the preview role reads (mapp/pr-*)")
	}
}

// An image of another platform is refused before any stack is made; one
// without a recorded platform is announced on one line and runs on
// X86_64.
func TestManifestAppPlatformsOnMoto(t *testing.T) {
	e := newAWSEnv(t)
	ctx := context.Background()
	p := e.provider("plat", "")
	must(t, p.EnsureShared(ctx))
	spec := previewSpec("plat", 6, "")
	spec.Platform = "windows/amd64"
	if _, err := p.Deploy(ctx, spec); err == nil || !strings.Contains(err.Error(), `image platform "windows/amd64": Fargate runs linux/amd64 or linux/arm64 images`) {
		t.Fatalf("windows image: %v, want a refusal naming the platforms Fargate runs", err)
	}
	if stacks, err := p.Stacks(ctx); err != nil || len(stacks) != 0 {
		t.Fatalf("stacks after a refused platform: %+v %v, want none", stacks, err)
	}
	spec.Platform = ""
	st, err := p.Deploy(ctx, spec)
	must(t, err)
	defer func() { must(t, p.Delete(ctx, st.Name)) }()
	if got := stackParam(t, e, st.Name, "CpuArchitecture"); got != "X86_64" {
		t.Errorf("CpuArchitecture %q, want X86_64", got)
	}
	if n := strings.Count(e.log.String(), "plat-pr-6: the image records no platform (built before Slipway recorded it): the task runs on X86_64, Fargate's default"); n != 1 {
		t.Errorf("the default announced %d times, want once:\n%s", n, e.log.String())
	}
}

func stackOutputs(t *testing.T, e *awsEnv, stack string) map[string]string {
	t.Helper()
	out, err := cloudformation.NewFromConfig(motoConfig(e.endpoint())).DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	must(t, err)
	m := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		m[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return m
}

// With a preview domain of its own (SLIPWAY_PREVIEW_DOMAIN) and no
// production domain, a preview gets its host under the preview domain,
// not a port, and production stays on the shared ALB.
func TestPreviewDomainOfItsOwnOnMoto(t *testing.T) {
	e := newAWSEnv(t)
	ctx := context.Background()
	p := e.provider("pdom", "")
	p.o.Shared.PreviewDomain, p.o.Shared.PreviewHostedZoneID = "pdom-preview.example", e.hostedZone("pdom-preview.example")
	if p.PortMode() {
		t.Fatal("PortMode with a preview domain: previews would get ports")
	}
	must(t, p.EnsureShared(ctx))
	st, err := p.Deploy(ctx, previewSpec("pdom", 4, "pdom-preview.example"))
	must(t, err)
	defer func() { must(t, p.Delete(ctx, st.Name)) }()
	if host, port := stackParam(t, e, st.Name, "Host"), stackParam(t, e, st.Name, "ListenerPort"); host != "pr-4.pdom-preview.example" || port != "0" {
		t.Errorf("preview on host %q port %q, want pr-4.pdom-preview.example and no port", host, port)
	}
	if url := stackOutputs(t, e, st.Name)["Url"]; url != "http://pr-4.pdom-preview.example/" {
		t.Errorf("preview URL %q, want http://pr-4.pdom-preview.example/", url)
	}
	r, err := p.Routes(ctx)
	must(t, err)
	if r.Hosts["pr-4.pdom-preview.example"] != "pdom-pr-4" {
		t.Errorf("routes %+v, want pr-4.pdom-preview.example on pdom-pr-4", r.Hosts)
	}
}
