package infra

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/slipway/slipway/internal/testenv"
)

// loadTemplate decodes an embedded template. CloudFormation's short forms
// (!Ref x, !If [...]) become their long forms ({"Ref": x}, {"Fn::If": [...]}).
func loadTemplate(t *testing.T, name string) map[string]any {
	t.Helper()
	return decodeTemplate(t, name, mustRead(name))
}

func decodeTemplate(t *testing.T, name, text string) map[string]any {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(text), &root); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	v, err := intrinsic(root.Content[0])
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return v.(map[string]any)
}

func intrinsic(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := intrinsic(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			val, err := intrinsic(c)
			if err != nil {
				return nil, err
			}
			l = append(l, val)
		}
		v = l
	case yaml.ScalarNode:
		v = n.Value
	default:
		return nil, fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
	}
	if tag := n.Tag; strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		fn := strings.TrimPrefix(tag, "!")
		if fn != "Ref" && fn != "Condition" {
			fn = "Fn::" + fn
		}
		return map[string]any{fn: v}, nil
	}
	return v, nil
}

// at walks a decoded template: keys for maps, "#n" for list items.
func at(t *testing.T, v any, path ...string) any {
	t.Helper()
	for i, p := range path {
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[p]
			if !ok {
				t.Fatalf("%s: no key %q", strings.Join(path[:i+1], "."), p)
			}
			v = next
		case []any:
			var n int
			if _, err := fmt.Sscanf(p, "#%d", &n); err != nil || n >= len(x) {
				t.Fatalf("%s: no item %q", strings.Join(path[:i+1], "."), p)
			}
			v = x[n]
		default:
			t.Fatalf("%s: %T is not a map or list", strings.Join(path[:i], "."), v)
		}
	}
	return v
}

func ref(name string) any { return map[string]any{"Ref": name} }

func TestTemplatesPassCfnLint(t *testing.T) {
	lint := "cfn-lint"
	if venv := os.Getenv("SLIPWAY_VENV"); venv != "" {
		lint = filepath.Join(venv, "bin", "cfn-lint")
	}
	bin, err := exec.LookPath(lint)
	if err != nil {
		testenv.Missing(t, "cfn-lint", "run the suite with `go run mage.go test`, which installs the pinned cfn-lint in a venv (SLIPWAY_VENV)")
	}
	// testdata/deploy-manifest-app.yaml is deploy.yaml rendered for an app's
	// manifest (deployapp_test.go).
	for _, name := range []string{"shared.yaml", "deploy.yaml", "testdata/deploy-manifest-app.yaml"} {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command(bin, "--format", "parseable", "--", name).CombinedOutput()
			if err != nil {
				t.Fatalf("cfn-lint %s: %v\n%s", name, err, out)
			}
		})
	}
}

// What moto accepts but does not apply (research/moto.md), asserted here.
func TestDeployTemplateSettings(t *testing.T) {
	tpl := loadTemplate(t, "deploy.yaml")
	res := func(path ...string) any { return at(t, tpl, append([]string{"Resources"}, path...)...) }
	cases := []struct {
		name string
		got  any
		want any
	}{
		{"Fargate task", res("TaskDefinition", "Properties", "RequiresCompatibilities"), []any{"FARGATE"}},
		{"awsvpc networking", res("TaskDefinition", "Properties", "NetworkMode"), "awsvpc"},
		{"CPU from the parameter", res("TaskDefinition", "Properties", "Cpu"), ref("Cpu")},
		{"memory from the parameter", res("TaskDefinition", "Properties", "Memory"), ref("Memory")},
		{"0.25 vCPU by default", at(t, tpl, "Parameters", "Cpu", "Default"), "256"},
		{"a kept release can be scaled to zero through its parameter (AWS enforces MinValue)", at(t, tpl, "Parameters", "DesiredCount", "MinValue"), "0"},
		{"the service runs the parameter's count", res("Service", "Properties", "DesiredCount"), ref("DesiredCount")},
		{"512 MiB by default", at(t, tpl, "Parameters", "Memory", "Default"), "512"},
		{"execution role from the shared stack", res("TaskDefinition", "Properties", "ExecutionRoleArn"), ref("ExecutionRoleArn")},
		{"logs to the shared group", res("TaskDefinition", "Properties", "ContainerDefinitions", "#0", "LogConfiguration", "Options", "awslogs-group"), ref("LogGroupName")},
		{"SLIPWAY_STACK is the stack name", res("TaskDefinition", "Properties", "ContainerDefinitions", "#0", "Environment", "#0"), map[string]any{"Name": "SLIPWAY_STACK", "Value": ref("AWS::StackName")}},
		{"a release's service on regular Fargate", res("Service", "Properties", "LaunchType"), map[string]any{"Fn::If": []any{"OnSpot", ref("AWS::NoValue"), "FARGATE"}}},
		{"a preview's service on Fargate Spot", res("Service", "Properties", "CapacityProviderStrategy"), map[string]any{"Fn::If": []any{"OnSpot",
			[]any{map[string]any{"CapacityProvider": "FARGATE_SPOT", "Weight": "1"}}, ref("AWS::NoValue")}}},
		{"circuit breaker with rollback", res("Service", "Properties", "DeploymentConfiguration", "DeploymentCircuitBreaker"), map[string]any{"Enable": "true", "Rollback": "true"}},
		{"grace period from the stack's parameter", res("Service", "Properties", "HealthCheckGracePeriodSeconds"), ref("HealthCheckGracePeriod")},
		{"public IP, no NAT gateway", res("Service", "Properties", "NetworkConfiguration", "AwsvpcConfiguration", "AssignPublicIp"), "ENABLED"},
		{"tasks in the shared subnets", res("Service", "Properties", "NetworkConfiguration", "AwsvpcConfiguration", "Subnets"), ref("SubnetIds")},
		{"service behind its target group", res("Service", "Properties", "LoadBalancers"), []any{map[string]any{"ContainerName": "app", "ContainerPort": ref("ContainerPort"), "TargetGroupArn": ref("TargetGroup")}}},
		{"tasks admit only the stack's ALB, through a resource of its own", res("TaskIngress", "Properties"), map[string]any{"GroupId": map[string]any{"Fn::GetAtt": "TaskSecurityGroup.GroupId"},
			"Description": "From the stack's ALB", "IpProtocol": "tcp", "FromPort": ref("ContainerPort"), "ToPort": ref("ContainerPort"), "SourceSecurityGroupId": ref("LoadBalancerSecurityGroupId")}},
		{"the service waits for its rule (ECS needs the target group on the ALB) and its tasks' ingress", res("Service", "DependsOn"), []any{"ListenerRule", "TaskIngress"}},
		{"ip targets", res("TargetGroup", "Properties", "TargetType"), "ip"},
		{"health path parameter", res("TargetGroup", "Properties", "HealthCheckPath"), ref("HealthPath")},
		{"health path /healthz by default", at(t, tpl, "Parameters", "HealthPath", "Default"), "/healthz"},
		{"health check every 5 s by default", at(t, tpl, "Parameters", "HealthInterval", "Default"), "5"},
		{"health check interval from the app", res("TargetGroup", "Properties", "HealthCheckIntervalSeconds"), ref("HealthInterval")},
		{"health check timeout from the app", res("TargetGroup", "Properties", "HealthCheckTimeoutSeconds"), ref("HealthTimeout")},
		{"unhealthy threshold from the app", res("TargetGroup", "Properties", "UnhealthyThresholdCount"), ref("UnhealthyThreshold")},
		{"target group port is the app's", res("TargetGroup", "Properties", "Port"), ref("ContainerPort")},
		{"RuntimePlatform from the image", res("TaskDefinition", "Properties", "RuntimePlatform"), map[string]any{"OperatingSystemFamily": "LINUX", "CpuArchitecture": ref("CpuArchitecture")}},
		{"healthy after 2 checks by default", at(t, tpl, "Parameters", "HealthyThreshold", "Default"), "2"},
		{"healthy threshold from the app", res("TargetGroup", "Properties", "HealthyThresholdCount"), ref("HealthyThreshold")},
		{"deregistration delay from the parameter", res("TargetGroup", "Properties", "TargetGroupAttributes"), []any{map[string]any{"Key": "deregistration_delay.timeout_seconds", "Value": ref("DeregistrationDelay")}}},
		{"deregistration delay at most 30 s", at(t, tpl, "Parameters", "DeregistrationDelay", "MaxValue"), "30"},
		{"rule on the shared listener", res("ListenerRule", "Properties", "ListenerArn"), ref("ListenerArn")},
		{"rule at the allocated priority", res("ListenerRule", "Properties", "Priority"), ref("Priority")},
		{"host rule for previews with a domain, test header otherwise", res("ListenerRule", "Properties", "Conditions"), map[string]any{"Fn::If": []any{"HostMode",
			[]any{map[string]any{"Field": "host-header", "HostHeaderConfig": map[string]any{"Values": []any{ref("Host")}}}},
			[]any{map[string]any{"Field": "http-header", "HttpHeaderConfig": map[string]any{"HttpHeaderName": TestHeader, "Values": []any{ref("AWS::StackName")}}}}}}},
		{"port listener only for previews without a domain", res("PreviewListener", "Condition"), "PortMode"},
		{"port listener forwards to the target group", res("PreviewListener", "Properties", "DefaultActions"), []any{map[string]any{"Type": "forward", "TargetGroupArn": ref("TargetGroup")}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("got %#v\nwant %#v", c.got, c.want)
			}
		})
	}
}

func TestDeployTemplateHasNoProductionRoute(t *testing.T) {
	tpl := loadTemplate(t, "deploy.yaml")
	var rules []string
	for name, r := range tpl["Resources"].(map[string]any) {
		if typ := r.(map[string]any)["Type"]; typ == "AWS::ElasticLoadBalancingV2::ListenerRule" || typ == "AWS::ElasticLoadBalancingV2::Listener" {
			rules = append(rules, name)
		}
	}
	if len(rules) != 2 {
		t.Fatalf("routing resources %v: want only ListenerRule (host or test header) and PreviewListener; the production rule belongs to the tool", rules)
	}
	// A production stack's rule matches only its own test header.
	conds := at(t, tpl, "Conditions", "HostMode", "Fn::And")
	if !reflect.DeepEqual(at(t, conds, "#0"), map[string]any{"Condition": "IsPreview"}) {
		t.Errorf("HostMode must require a preview, got %#v", conds)
	}
}

// No security group of the deploy template has inline rules. CloudFormation
// creates such a group, authorizes its rules and only then tags it
// (aws/aws-cdk#13204: create-security-group, authorize-security-group-
// ingress, authorize-security-group-egress, create-tags, as CloudTrail
// shows; aws-cloudformation/cloudformation-coverage-roadmap#714), while
// both roles may authorize ingress only on a group already tagged
// aws:cloudformation:stack-name=<app>-pr-* or <app>-prod-*: every first
// create would be AccessDenied. A separate AWS::EC2::SecurityGroupIngress
// starts after the group resource completes, tags included.
func TestDeployTemplateSecurityGroupsHaveNoInlineRules(t *testing.T) {
	for name, r := range loadTemplate(t, "deploy.yaml")["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::EC2::SecurityGroup" {
			continue
		}
		props, _ := res["Properties"].(map[string]any)
		for _, k := range []string{"SecurityGroupIngress", "SecurityGroupEgress"} {
			if _, ok := props[k]; ok {
				t.Errorf("%s has inline %s: the role may not authorize it before CloudFormation tags the group", name, k)
			}
		}
	}
}
