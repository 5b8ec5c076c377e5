package infra

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestSharedTemplateSettings(t *testing.T) {
	tpl := loadTemplate(t, "shared.yaml")
	res := func(path ...string) any { return at(t, tpl, append([]string{"Resources"}, path...)...) }
	notFound := map[string]any{"Type": "fixed-response", "FixedResponseConfig": map[string]any{
		"StatusCode": "404", "ContentType": "text/plain", "MessageBody": "Not found: no environment serves this address.\n"}}
	cases := []struct {
		name string
		got  any
		want any
	}{
		{"images scanned on push", res("Repository", "Properties", "ImageScanningConfiguration", "ScanOnPush"), "true"},
		{"repository kept when the stack goes (rollback images)", res("Repository", "DeletionPolicy"), "Retain"},
		{"previews push to a repository of their own", res("PreviewRepository", "Properties", "RepositoryName"), map[string]any{"Fn::Sub": "${App}-previews"}},
		{"preview images go with the stack", res("PreviewRepository", "Properties", "EmptyOnDelete"), "true"},
		{"task logs go with the stack (they expire anyway)", res("LogGroup", "DeletionPolicy"), "Delete"},
		{"VPC only when none is given", res("Vpc", "Condition"), "CreateVpc"},
		{"first subnet in the first zone", res("SubnetA", "Properties", "AvailabilityZone"), map[string]any{"Fn::Select": []any{"0", map[string]any{"Fn::GetAZs": ""}}}},
		{"second subnet in the second zone", res("SubnetB", "Properties", "AvailabilityZone"), map[string]any{"Fn::Select": []any{"1", map[string]any{"Fn::GetAZs": ""}}}},
		{"public subnets", res("SubnetA", "Properties", "MapPublicIpOnLaunch"), "true"},
		{"subnet CIDRs from parameters (moto crashes on Fn::Cidr)", res("SubnetB", "Properties", "CidrBlock"), ref("SubnetBCidr")},
		{"execution role has the ECS managed policy", res("TaskExecutionRole", "Properties", "ManagedPolicyArns"), []any{map[string]any{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"}}},
		{"log retention", res("LogGroup", "Properties", "RetentionInDays"), ref("LogRetentionDays")},
		{"internet-facing ALB", res("LoadBalancer", "Properties", "Scheme"), "internet-facing"},
		{"ALB named for IAM scoping", res("LoadBalancer", "Properties", "Name"), map[string]any{"Fn::Sub": "${App}-shared"}},
		{"HTTP 404 naming no environment, or a redirect to HTTPS", res("HttpListener", "Properties", "DefaultActions", "#0"), map[string]any{"Fn::If": []any{"HasCertificate",
			map[string]any{"Type": "redirect", "RedirectConfig": map[string]any{"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}, notFound}}},
		{"HTTPS only with a certificate", res("HttpsListener", "Condition"), "HasCertificate"},
		{"HTTPS 404 default", res("HttpsListener", "Properties", "DefaultActions"), []any{notFound}},
		{"apex record with a domain, unless the zone has one (DomainRecord=false)", res("ApexRecord", "Condition"), "HasApexRecord"},
		{"wildcard record for the preview domain", res("WildcardRecord", "Properties", "Name"), map[string]any{"Fn::Sub": "*.${PreviewDomain}"}},
		{"wildcard record to the previews ALB", res("WildcardRecord", "Properties", "AliasTarget", "DNSName"), map[string]any{"Fn::GetAtt": "PreviewLoadBalancer.DNSName"}},
		{"apex record to the production ALB", res("ApexRecord", "Properties", "AliasTarget", "DNSName"), map[string]any{"Fn::GetAtt": "LoadBalancer.DNSName"}},
		{"preview ports open only without a preview domain", at(t, tpl, "Conditions", "PreviewPorts"), map[string]any{"Fn::Not": []any{map[string]any{"Condition": "PreviewHosts"}}}},
		{"previews ALB named for IAM scoping", res("PreviewLoadBalancer", "Properties", "Name"), map[string]any{"Fn::Sub": PreviewLoadBalancerName("${App}")}},
		{"previews ALB behind its own security group", res("PreviewLoadBalancer", "Properties", "SecurityGroups"), []any{ref("PreviewLoadBalancerSecurityGroup")}},
		{"previews' rules go on the previews ALB", at(t, tpl, "Outputs", OutputPreviewListenerARN, "Value"), map[string]any{"Fn::If": []any{"HasPreviewCertificate", ref("PreviewHttpsListener"), ref("PreviewHttpListener")}}},
		{"previews ALB 404 names no preview", res("PreviewHttpsListener", "Properties", "DefaultActions", "#0", "FixedResponseConfig", "MessageBody"), "Not found: no preview serves this address.\n"},
		{"preview port range in the previews ALB's security group only", res("PreviewPortsIngress", "Properties"), map[string]any{"GroupId": map[string]any{"Fn::GetAtt": "PreviewLoadBalancerSecurityGroup.GroupId"},
			"Description": "Preview listener ports (no domain)", "IpProtocol": "tcp", "FromPort": ref("PreviewPortFirst"), "ToPort": ref("PreviewPortLast"), "CidrIp": "0.0.0.0/0"}},
		{"port range opened only without a domain", res("PreviewPortsIngress", "Condition"), "PreviewPorts"},
		{"443 opened only with a certificate", res("HttpsIngress", "Condition"), "HasCertificate"},
		{"lock table named as the tool looks it up", res("LockTable", "Properties", "TableName"), map[string]any{"Fn::Sub": LockTableName("${App}")}},
		{"lock table keyed by id alone", res("LockTable", "Properties", "KeySchema"), []any{map[string]any{"AttributeName": "id", "KeyType": "HASH"}}},
		{"Container Insights as the stack's setting", res("Cluster", "Properties", "ClusterSettings", "#0", "Value"), ref("ContainerInsights")},
		{"log group key only when given", res("LogGroup", "Properties", "KmsKeyId"), map[string]any{"Fn::If": []any{"HasLogsKey", ref("LogsKmsKeyArn"), ref("AWS::NoValue")}}},
		{"production ALB access logs when a bucket is given", res("LoadBalancer", "Properties", "LoadBalancerAttributes", "#2", "Value"), map[string]any{"Fn::If": []any{"HasAccessLogs", "true", "false"}}},
		{"previews ALB access logs when a bucket is given", res("PreviewLoadBalancer", "Properties", "LoadBalancerAttributes", "#3", "Fn::If", "#1", "Value"), ref("AccessLogsBucket")},
		{"lock table costs nothing while idle", res("LockTable", "Properties", "BillingMode"), "PAY_PER_REQUEST"},
		{"rules go on HTTPS when there is a certificate", at(t, tpl, "Outputs", OutputALBListenerARN, "Value"), map[string]any{"Fn::If": []any{"HasCertificate", ref("HttpsListener"), ref("HttpListener")}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("got %#v\nwant %#v", c.got, c.want)
			}
		})
	}
	testLifecyclePolicies(t, res)
}

// ECR expires what the lifecycle rules select (ECR User Guide, "Lifecycle
// policy parameters"): in the release repository untagged images and all
// but the newest ReleaseImagesKept; in the previews' every image some
// days after its push, tagged or not (pr-N, branch-..., <sha7>), so no
// preview image is kept for ever. moto keeps but never applies the rules:
// checked on the template.
func testLifecyclePolicies(t *testing.T, res func(path ...string) any) {
	type rule struct {
		RulePriority int
		Selection    struct {
			TagStatus, CountType, CountUnit string
			CountNumber                     any
		}
		Action struct{ Type string }
	}
	for repo, want := range map[string][]string{
		"Repository":        {"1 untagged sinceImagePushed days ${UntaggedImageDays} expire", "2 any imageCountMoreThan  ${ReleaseImagesKept} expire"},
		"PreviewRepository": {"1 untagged sinceImagePushed days ${UntaggedImageDays} expire", "2 any sinceImagePushed days ${PreviewImageDays} expire"},
	} {
		text := res(repo, "Properties", "LifecyclePolicy", "LifecyclePolicyText", "Fn::Sub").(string)
		var doc struct{ Rules []rule }
		// The ${...} placeholders stand where numbers go: quote them to read the JSON.
		if err := json.Unmarshal([]byte(regexp.MustCompile(`:\s*(\$\{\w+\})`).ReplaceAllString(text, `: "$1"`)), &doc); err != nil {
			t.Fatalf("%s lifecycle policy: %v\n%s", repo, err, text)
		}
		var got []string
		for _, r := range doc.Rules {
			sel := r.Selection
			got = append(got, fmt.Sprintf("%d %s %s %s %v %s", r.RulePriority, sel.TagStatus, sel.CountType, sel.CountUnit, sel.CountNumber, r.Action.Type))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s lifecycle rules:\n%s\nwant\n%s", repo, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// Every output key the Go code names exists in the templates, and back.
func TestOutputConstantsMatchTemplates(t *testing.T) {
	shared := []string{OutputRepositoryURI, OutputRepositoryName, OutputPreviewRepositoryURI, OutputPreviewRepositoryName, OutputClusterName, OutputClusterARN, OutputVPCID,
		OutputSubnetIDs, OutputExecutionRoleARN, OutputPreviewExecutionRole, OutputAppTasksSGID, OutputLogGroupName, OutputLoadBalancerARN, OutputLoadBalancerDNSName,
		OutputLoadBalancerSGID, OutputALBListenerARN, OutputHTTPListenerARN, OutputScheme, OutputDomain,
		OutputPreviewPortFirst, OutputPreviewPortLast, OutputPreviewLoadBalancerARN, OutputPreviewLoadBalancerDNS,
		OutputPreviewLoadBalancerSGID, OutputPreviewListenerARN, OutputPreviewScheme, OutputPreviewDomain,
		OutputDatabaseEndpoint, OutputDatabasePort, OutputDatabaseClusterARN, OutputDatabaseSecretARN}
	deploy := []string{OutputDeployTargetGroupARN, OutputDeployServiceARN, OutputDeployServiceName,
		OutputDeployTaskDefinition, OutputDeployTaskSGID, OutputDeployListenerRuleARN, OutputDeployPreviewListener, OutputDeployURL}
	for name, keys := range map[string][]string{"shared.yaml": shared, "deploy.yaml": deploy} {
		outs := loadTemplate(t, name)["Outputs"].(map[string]any)
		for _, k := range keys {
			if _, ok := outs[k]; !ok {
				t.Errorf("%s has no output %s", name, k)
			}
		}
		if len(outs) != len(keys) {
			t.Errorf("%s has %d outputs, the Go constants name %d", name, len(outs), len(keys))
		}
	}
}

// What moto cannot run, and what would couple stacks, is kept out of both
// templates (research/moto.md): Fn::Cidr crashes CreateStack, GetAtt on a
// target group, listener, rule or task definition fails, ImportValue blocks
// changes to the shared stack.
func TestTemplatesAvoidWhatBreaks(t *testing.T) {
	banned := []struct {
		re  *regexp.Regexp
		why string
	}{
		{regexp.MustCompile(`Fn::Cidr\s*:|!Cidr\s`), "Fn::Cidr crashes moto; take CIDRs as parameters"},
		{regexp.MustCompile(`Fn::ImportValue\s*:|!ImportValue\s`), "outputs go to deploy stacks as parameters, never Fn::ImportValue"},
		{regexp.MustCompile(`GetAtt\s+(TargetGroup|Listener|ListenerRule|HttpListener|HttpsListener|PreviewListener|TaskDefinition)\.`), "use !Ref for these ARNs (moto fails GetAtt on them)"},
		{regexp.MustCompile(`NatGateway`), "no NAT gateway: tasks get public IPs"},
		{regexp.MustCompile(`EnableTerminationProtection`), "termination protection is set by the tool on CreateStack"},
	}
	for _, name := range []string{"shared.yaml", "deploy.yaml"} {
		text := mustRead(name)
		for _, b := range banned {
			if loc := b.re.FindStringIndex(text); loc != nil {
				t.Errorf("%s: %q: %s", name, text[loc[0]:loc[1]], b.why)
			}
		}
	}
}
