package infra

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/slipway/slipway/internal/awsenv"
	"github.com/slipway/slipway/internal/testenv"
)

// motoClients starts a moto server and returns clients that reach it with
// static dummy credentials; nothing of the machine's AWS setup is used.
func motoClients(t *testing.T) (*cloudformation.Client, *elbv2.Client) {
	t.Helper()
	endpoint := testenv.Moto(t)
	home := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "dummy", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "credentials"),
	} {
		t.Setenv(k, v)
	}
	cfg, err := awsenv.Load(context.Background(), awsenv.Settings{Region: "eu-west-1", Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return cloudformation.NewFromConfig(cfg), elbv2.NewFromConfig(cfg)
}

func createStack(t *testing.T, cfn *cloudformation.Client, name, body string, params []cfntypes.Parameter, tags map[string]string) (*cfntypes.Stack, error) {
	t.Helper()
	ctx := context.Background()
	var ts []cfntypes.Tag
	for k, v := range tags {
		ts = append(ts, cfntypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	_, err := cfn.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName: aws.String(name), TemplateBody: aws.String(body), Parameters: params, Tags: ts,
		Capabilities:                []cfntypes.Capability{cfntypes.CapabilityCapabilityIam},
		EnableTerminationProtection: aws.Bool(strings.HasSuffix(name, "-shared")),
	})
	if err != nil {
		return nil, err
	}
	out, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		t.Fatalf("describe stack %s: %v", name, err)
	}
	s := out.Stacks[0]
	if s.StackStatus != cfntypes.StackStatusCreateComplete {
		t.Fatalf("stack %s: %s %s", name, s.StackStatus, aws.ToString(s.StackStatusReason))
	}
	return &s, nil
}

func outputs(s *cfntypes.Stack) map[string]string {
	m := map[string]string{}
	for _, o := range s.Outputs {
		m[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return m
}

func tagsOf(s *cfntypes.Stack) map[string]string {
	m := map[string]string{}
	for _, tg := range s.Tags {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}

// The shared stack's outputs, passed as parameters, create deploy stacks of
// all three kinds; their tags, outputs and routing resources read back.
func TestStacksCreateOnMoto(t *testing.T) {
	cfn, elb := motoClients(t)
	ctx := context.Background()
	sp, err := SharedParams{App: "demo"}.Parameters()
	if err != nil {
		t.Fatal(err)
	}
	shared, err := createStack(t, cfn, "demo-shared", SharedTemplate(), sp, map[string]string{"slipway:app": "demo"})
	if err != nil {
		t.Fatalf("create shared stack: %v", err)
	}
	so, err := ParseSharedOutputs(shared.Outputs)
	if err != nil {
		t.Fatal(err)
	}
	if len(so.SubnetIDs) != 2 || so.Scheme != "http" || so.PreviewPortFirst != DefaultPreviewPortFirst || so.Domain != "" {
		t.Fatalf("shared outputs %+v: want two subnets, http, the default port range, no domain", so)
	}

	host := previewHost()
	host.Shared = so
	port := previewPort()
	port.Shared = so
	rel := release()
	rel.Shared = so
	stacks := map[string]*cfntypes.Stack{}
	for _, p := range []DeployParams{host, port, rel} {
		ps, err := p.Parameters()
		if err != nil {
			t.Fatal(err)
		}
		tags := map[string]string{"slipway:app": "demo", "slipway:role": p.Role, "slipway:commit": "0123abc"}
		s, err := createStack(t, cfn, p.Stack, DeployTemplate(), ps, tags)
		if err != nil {
			t.Fatalf("create %s: %v", p.Stack, err)
		}
		if got := tagsOf(s); got["slipway:role"] != p.Role || got["slipway:commit"] != "0123abc" {
			t.Errorf("%s: tags read back %v", p.Stack, got)
		}
		stacks[p.Stack] = s
	}

	if u := outputs(stacks["demo-pr-42"])[OutputDeployURL]; u != "http://pr-42.preview.example.com/" {
		t.Errorf("host preview URL = %q", u)
	}
	if u := outputs(stacks["demo-pr-7"])[OutputDeployURL]; u != "http://"+so.LoadBalancerDNSName+":8003/" {
		t.Errorf("port preview URL = %q", u)
	}
	relOut := outputs(stacks[rel.Stack])
	if _, ok := relOut[OutputDeployURL]; ok {
		t.Errorf("a release has no URL of its own: %v", relOut)
	}
	for _, k := range []string{OutputDeployTargetGroupARN, OutputDeployListenerRuleARN, OutputDeployServiceName} {
		if relOut[k] == "" {
			t.Errorf("release output %s missing: %v", k, relOut)
		}
	}

	rules, err := elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: aws.String(so.ListenerARN)})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, r := range rules.Rules {
		for _, c := range r.Conditions {
			switch {
			case c.HostHeaderConfig != nil:
				seen[aws.ToString(r.Priority)] = "host " + strings.Join(c.HostHeaderConfig.Values, ",")
			case c.HttpHeaderConfig != nil:
				seen[aws.ToString(r.Priority)] = aws.ToString(c.HttpHeaderConfig.HttpHeaderName) + " " + strings.Join(c.HttpHeaderConfig.Values, ",")
			}
		}
	}
	want := map[string]string{"42": "host pr-42.preview.example.com", "107": TestHeader + " demo-pr-7", "900": TestHeader + " " + rel.Stack}
	for prio, w := range want {
		if seen[prio] != w {
			t.Errorf("rule at priority %s = %q, want %q (all: %v)", prio, seen[prio], w, seen)
		}
	}

	ls, err := elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(so.LoadBalancerARN)})
	if err != nil {
		t.Fatal(err)
	}
	ports := map[int32]string{}
	for _, l := range ls.Listeners {
		ports[aws.ToInt32(l.Port)] = string(l.DefaultActions[0].Type)
	}
	if ports[80] != "fixed-response" || ports[8003] != "forward" || len(ports) != 2 {
		t.Errorf("listeners %v: want the shared 404 on 80 and the port preview's forward on 8003, nothing else", ports)
	}

	tgs, err := elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"demo-pr-7"}})
	if err != nil {
		t.Fatal(err)
	}
	tg := tgs.TargetGroups[0]
	if tg.TargetType != "ip" || aws.ToString(tg.HealthCheckPath) != "/healthz" || aws.ToInt32(tg.HealthCheckIntervalSeconds) != 5 || aws.ToInt32(tg.HealthyThresholdCount) != 2 {
		t.Errorf("target group: type %s path %s every %ds healthy after %d", tg.TargetType, aws.ToString(tg.HealthCheckPath), aws.ToInt32(tg.HealthCheckIntervalSeconds), aws.ToInt32(tg.HealthyThresholdCount))
	}

	// A second preview asking for a taken priority is refused: the tool
	// allocates another and retries. (Real AWS fails the ListenerRule
	// resource and rolls the stack back; moto refuses CreateStack itself.)
	clash := previewHost()
	clash.Stack, clash.Host, clash.Shared = "demo-pr-43", "pr-43.preview.example.com", so
	ps, err := clash.Parameters()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := createStack(t, cfn, clash.Stack, DeployTemplate(), ps, nil); err == nil || !strings.Contains(err.Error(), "PriorityInUse") {
		t.Errorf("a taken priority: err = %v, want PriorityInUse", err)
	}
}
