package infra

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/slipway/slipway/internal/awsenv"
	"github.com/slipway/slipway/internal/testenv"
)

// motoClients starts a moto server and returns clients that reach it with
// static dummy credentials; nothing of the machine's AWS setup is used.
func motoClients(t *testing.T) (*cloudformation.Client, *elbv2.Client, *ecs.Client) {
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
	return cloudformation.NewFromConfig(cfg), elbv2.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
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

// motoStacks is a shared stack and the deploy stacks created from its
// outputs on one moto server.
type motoStacks struct {
	cfn     *cloudformation.Client
	elb     *elbv2.Client
	ecs     *ecs.Client
	shared  SharedOutputs
	host    DeployParams // preview with a domain
	port    DeployParams // preview on an ALB port
	release DeployParams
	stacks  map[string]*cfntypes.Stack
}

// The shared stack's outputs, passed as parameters, create deploy stacks of
// all three kinds; their tags, outputs and routing resources read back.
func TestStacksCreateOnMoto(t *testing.T) {
	f := createAll(t)
	for _, c := range []struct {
		name  string
		check func(t *testing.T, f *motoStacks)
	}{
		{"a shared stack in an existing VPC creates no network", checkExistingVPC},
		{"previews report their URLs, releases none", checkURLs},
		{"releases have their rules on the production listener, previews on the previews ALB's", checkRules},
		{"a preview without a domain has its own listener on the previews ALB", checkListeners},
		{"target group health check", checkTargetGroup},
		{"tasks admit their stack's ALB on the container port, and nothing else", checkTaskIngress},
		{"container environment", checkEnvironment},
		{"DATABASE_URL comes from the secret, only where one is given", checkDatabaseSecret},
		{"no database unless asked for", checkNoDatabase},
		{"a new image updates the stack", checkUpdate},
		{"a taken priority is refused", checkPriorityClash},
	} {
		t.Run(c.name, func(t *testing.T) { c.check(t, f) })
	}
}

func createAll(t *testing.T) *motoStacks {
	t.Helper()
	f := &motoStacks{stacks: map[string]*cfntypes.Stack{}}
	f.cfn, f.elb, f.ecs = motoClients(t)
	sp, err := SharedParams{App: "demo"}.Parameters()
	if err != nil {
		t.Fatal(err)
	}
	shared, err := createStack(t, f.cfn, "demo-shared", SharedTemplate(), sp, map[string]string{"slipway:app": "demo"})
	if err != nil {
		t.Fatalf("create shared stack: %v", err)
	}
	if f.shared, err = ParseSharedOutputs(shared.Outputs); err != nil {
		t.Fatal(err)
	}
	so := f.shared
	if len(so.SubnetIDs) != 2 || so.Scheme != "http" || so.PreviewPortFirst != DefaultPreviewPortFirst || so.Domain != "" || so.Previews.Scheme != "http" {
		t.Fatalf("shared outputs %+v: want two subnets, http, the default port range, no domain", so)
	}
	if so.Previews.LoadBalancerARN == so.LoadBalancerARN || so.Previews.ListenerARN == so.ListenerARN || so.Previews.LoadBalancerSGID == so.LoadBalancerSGID {
		t.Fatalf("previews ALB %+v: want an ALB, listener and security group other than production's", so.Previews)
	}
	f.host, f.port, f.release = previewHost(), previewPort(), release()
	f.host.Shared, f.port.Shared, f.release.Shared = so, so, so
	for _, p := range []DeployParams{f.host, f.port, f.release} {
		ps, err := p.Parameters()
		if err != nil {
			t.Fatal(err)
		}
		tags := map[string]string{"slipway:app": "demo", "slipway:role": p.Role, "slipway:commit": "0123abc"}
		tpl, err := p.Template()
		if err != nil {
			t.Fatal(err)
		}
		s, err := createStack(t, f.cfn, p.Stack, tpl, ps, tags)
		if err != nil {
			t.Fatalf("create %s: %v", p.Stack, err)
		}
		if got := tagsOf(s); got["slipway:role"] != p.Role || got["slipway:commit"] != "0123abc" {
			t.Errorf("%s: tags read back %v", p.Stack, got)
		}
		f.stacks[p.Stack] = s
	}
	return f
}

// A second app in the first one's network: no VPC of its own, and its
// outputs name the given VPC and subnets.
func checkExistingVPC(t *testing.T, f *motoStacks) {
	ep, err := SharedParams{App: "other", VPCID: f.shared.VPCID, SubnetIDs: f.shared.SubnetIDs}.Parameters()
	if err != nil {
		t.Fatal(err)
	}
	ext, err := createStack(t, f.cfn, "other-shared", SharedTemplate(), ep, nil)
	if err != nil {
		t.Fatalf("create shared stack in an existing VPC: %v", err)
	}
	eo, err := ParseSharedOutputs(ext.Outputs)
	if err != nil {
		t.Fatal(err)
	}
	if eo.VPCID != f.shared.VPCID || strings.Join(eo.SubnetIDs, ",") != strings.Join(f.shared.SubnetIDs, ",") {
		t.Errorf("existing network: outputs %s %v, want %s %v", eo.VPCID, eo.SubnetIDs, f.shared.VPCID, f.shared.SubnetIDs)
	}
	res, err := f.cfn.DescribeStackResources(context.Background(), &cloudformation.DescribeStackResourcesInput{StackName: aws.String("other-shared")})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.StackResources {
		if typ := aws.ToString(r.ResourceType); strings.HasPrefix(typ, "AWS::EC2::VPC") || typ == "AWS::EC2::Subnet" || typ == "AWS::EC2::InternetGateway" {
			t.Errorf("existing network: the stack created %s %s", typ, aws.ToString(r.LogicalResourceId))
		}
	}
}

func checkURLs(t *testing.T, f *motoStacks) {
	if u := outputs(f.stacks["demo-pr-42"])[OutputDeployURL]; u != "http://pr-42.preview.example.com/" {
		t.Errorf("host preview URL = %q", u)
	}
	if u := outputs(f.stacks["demo-pr-7"])[OutputDeployURL]; u != "http://"+f.shared.Previews.LoadBalancerDNSName+":8003/" {
		t.Errorf("port preview URL = %q", u)
	}
	relOut := outputs(f.stacks[f.release.Stack])
	if _, ok := relOut[OutputDeployURL]; ok {
		t.Errorf("a release has no URL of its own: %v", relOut)
	}
	for _, k := range []string{OutputDeployTargetGroupARN, OutputDeployListenerRuleARN, OutputDeployServiceName} {
		if relOut[k] == "" {
			t.Errorf("release output %s missing: %v", k, relOut)
		}
	}
}

func checkRules(t *testing.T, f *motoStacks) {
	for listener, want := range map[string]map[string]string{
		f.shared.ListenerARN:          {"900": TestHeader + " " + f.release.Stack},
		f.shared.Previews.ListenerARN: {"42": "host pr-42.preview.example.com", "107": TestHeader + " demo-pr-7"},
	} {
		rules, err := f.elb.DescribeRules(context.Background(), &elbv2.DescribeRulesInput{ListenerArn: aws.String(listener)})
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
		if !maps.Equal(seen, want) {
			t.Errorf("rules of listener %s: %v, want %v", listener, seen, want)
		}
	}
}

func checkListeners(t *testing.T, f *motoStacks) {
	for lb, want := range map[string]map[int32]string{
		f.shared.LoadBalancerARN:          {80: "fixed-response"},
		f.shared.Previews.LoadBalancerARN: {80: "fixed-response", 8003: "forward"},
	} {
		ls, err := f.elb.DescribeListeners(context.Background(), &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lb)})
		if err != nil {
			t.Fatal(err)
		}
		ports := map[int32]string{}
		for _, l := range ls.Listeners {
			ports[aws.ToInt32(l.Port)] = string(l.DefaultActions[0].Type)
		}
		if !maps.Equal(ports, want) {
			t.Errorf("listeners of %s: %v, want %v (the 404 on 80; the port preview's forward on the previews ALB)", lb, ports, want)
		}
	}
}

func checkTargetGroup(t *testing.T, f *motoStacks) {
	tgs, err := f.elb.DescribeTargetGroups(context.Background(), &elbv2.DescribeTargetGroupsInput{Names: []string{"demo-pr-7"}})
	if err != nil {
		t.Fatal(err)
	}
	tg := tgs.TargetGroups[0]
	if tg.TargetType != "ip" || aws.ToString(tg.HealthCheckPath) != "/healthz" || aws.ToInt32(tg.HealthCheckIntervalSeconds) != 5 || aws.ToInt32(tg.HealthyThresholdCount) != 2 {
		t.Errorf("target group: type %s path %s every %ds healthy after %d", tg.TargetType, aws.ToString(tg.HealthCheckPath), aws.ToInt32(tg.HealthCheckIntervalSeconds), aws.ToInt32(tg.HealthyThresholdCount))
	}
}

func checkEnvironment(t *testing.T, f *motoStacks) {
	td, err := f.ecs.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(outputs(f.stacks["demo-pr-7"])[OutputDeployTaskDefinition])})
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range td.TaskDefinition.ContainerDefinitions[0].Environment {
		// moto keeps an unused slot (!If ... AWS::NoValue) as an entry
		// with an empty name; real CloudFormation drops the item.
		if aws.ToString(kv.Name) != "" {
			env = append(env, aws.ToString(kv.Name)+"="+aws.ToString(kv.Value))
		}
	}
	if got := strings.Join(env, " "); got != "SLIPWAY_STACK=demo-pr-7 PORT=8080 APP_MESSAGE=Hello from PR 7" {
		t.Errorf("container environment %q: want the stack name, the port and the settings", got)
	}
}

// The port preview gets DATABASE_URL from its secret (ECS reads it when a
// task starts: moto runs no task, so only the definition is checked); the
// host preview, given no secret, gets none (its Secrets property is
// !If ... AWS::NoValue).
func checkDatabaseSecret(t *testing.T, f *motoStacks) {
	for stack, want := range map[string]string{"demo-pr-7": DatabaseURLEnv + " from " + prSecret, "demo-pr-42": ""} {
		td, err := f.ecs.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(outputs(f.stacks[stack])[OutputDeployTaskDefinition])})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range td.TaskDefinition.ContainerDefinitions[0].Secrets {
			got = append(got, aws.ToString(s.Name)+" from "+aws.ToString(s.ValueFrom))
		}
		if strings.Join(got, "; ") != want {
			t.Errorf("%s: container secrets %q, want %q", stack, got, want)
		}
		for _, kv := range td.TaskDefinition.ContainerDefinitions[0].Environment {
			if aws.ToString(kv.Name) == DatabaseURLEnv {
				t.Errorf("%s: %s is in the plain environment", stack, DatabaseURLEnv)
			}
		}
	}
}

// The default shared stack has no database: no RDS resource, no database
// outputs; the app tasks group exists all the same (deploy stacks attach it).
func checkNoDatabase(t *testing.T, f *motoStacks) {
	if f.shared.Database != nil {
		t.Errorf("database outputs %+v without a database", f.shared.Database)
	}
	res, err := f.cfn.DescribeStackResources(context.Background(), &cloudformation.DescribeStackResourcesInput{StackName: aws.String("demo-shared")})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.StackResources {
		if id := aws.ToString(r.LogicalResourceId); strings.HasPrefix(aws.ToString(r.ResourceType), "AWS::RDS::") || id == "DatabaseSecurityGroup" {
			t.Errorf("the shared stack without a database created %s %s", aws.ToString(r.ResourceType), id)
		}
	}
	if !strings.HasPrefix(f.shared.AppTasksSGID, "sg-") {
		t.Errorf("app tasks group %q, want a security group ID", f.shared.AppTasksSGID)
	}
}

// (The no-op update with the same settings cannot be checked here: moto
// 5.2.5 counts a list parameter, SubnetIds, as changed on every
// UpdateStack; real CloudFormation answers "No updates are to be
// performed.")
func checkUpdate(t *testing.T, f *motoStacks) {
	host := f.host
	host.Image = strings.Replace(digestRef, "2c26", "fcde", 1)
	changed, err := host.Parameters()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := host.Template()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cfn.UpdateStack(context.Background(), &cloudformation.UpdateStackInput{StackName: aws.String(host.Stack), TemplateBody: aws.String(tpl), Parameters: changed, Tags: f.stacks[host.Stack].Tags}); err != nil {
		t.Fatalf("new image: %v", err)
	}
	upd, err := f.cfn.DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String(host.Stack)})
	if err != nil {
		t.Fatal(err)
	}
	// A new revision; moto's update path drops the container fields of the
	// new revision (Image comes back empty), so only the ARN is checked.
	before, after := outputs(f.stacks[host.Stack])[OutputDeployTaskDefinition], outputs(&upd.Stacks[0])[OutputDeployTaskDefinition]
	if before == after || !strings.HasPrefix(after, strings.TrimRight(before, "0123456789")) {
		t.Errorf("task definition %s after the update, was %s: want a new revision of the same family", after, before)
	}
}

// A second preview asking for a taken priority is refused: the tool
// allocates another and retries. (Real AWS fails the ListenerRule resource
// and rolls the stack back; moto refuses CreateStack itself.)
func checkPriorityClash(t *testing.T, f *motoStacks) {
	clash := previewHost()
	clash.Stack, clash.Host, clash.Shared = "demo-pr-43", "pr-43.preview.example.com", f.shared
	ps, err := clash.Parameters()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := clash.Template()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := createStack(t, f.cfn, clash.Stack, tpl, ps, nil); err == nil || !strings.Contains(err.Error(), "PriorityInUse") {
		t.Errorf("a taken priority: err = %v, want PriorityInUse", err)
	}
}

// The ingress is a resource of its own (TaskIngress), created after its
// group: a preview's tasks admit the previews ALB, a release's production's.
func checkTaskIngress(t *testing.T, f *motoStacks) {
	cfg := f.cfn.Options()
	ec := ec2.New(ec2.Options{Region: cfg.Region, Credentials: cfg.Credentials, BaseEndpoint: cfg.BaseEndpoint, HTTPClient: cfg.HTTPClient})
	for stack, from := range map[string]string{"demo-pr-7": f.shared.Previews.LoadBalancerSGID, f.release.Stack: f.shared.LoadBalancerSGID} {
		sg := outputs(f.stacks[stack])[OutputDeployTaskSGID]
		out, err := ec.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sg}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range out.SecurityGroups[0].IpPermissions {
			for _, g := range p.UserIdGroupPairs {
				got = append(got, fmt.Sprintf("%s %d-%d from %s", aws.ToString(p.IpProtocol), aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort), aws.ToString(g.GroupId)))
			}
			for _, r := range p.IpRanges {
				got = append(got, aws.ToString(p.IpProtocol)+" from "+aws.ToString(r.CidrIp))
			}
		}
		if want := "tcp 8080-8080 from " + from; strings.Join(got, "; ") != want {
			t.Errorf("%s: tasks admit %q, want %q", stack, got, want)
		}
	}
}
