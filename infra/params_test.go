package infra

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sharedOut is what a shared stack without a domain reports.
func sharedOut() SharedOutputs {
	return SharedOutputs{
		RepositoryURI: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/demo", RepositoryName: "demo",
		ClusterName: "demo", ClusterARN: "arn:aws:ecs:eu-west-1:123456789012:cluster/demo",
		VPCID: "vpc-0123456789abcdef0", SubnetIDs: []string{"subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"},
		ExecutionRoleARN:        "arn:aws:iam::123456789012:role/demo-shared-TaskExecutionRole-ABC",
		PreviewExecutionRoleARN: "arn:aws:iam::123456789012:role/demo-shared-PreviewExecRole-DEF",
		AppTasksSGID:            "sg-0fedcba9876543210",
		LogGroupName:            "/slipway/demo",
		LoadBalancerARN:         "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/demo-shared/50dc6c495c0c9188",
		LoadBalancerDNSName:     "demo-shared-1234567890.eu-west-1.elb.amazonaws.com",
		LoadBalancerSGID:        "sg-0123456789abcdef0",
		ListenerARN:             "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/demo-shared/50dc6c495c0c9188/f2f7dc8efc522ab2",
		HTTPListenerARN:         "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/demo-shared/50dc6c495c0c9188/f2f7dc8efc522ab2",
		Scheme:                  "http", PreviewPortFirst: DefaultPreviewPortFirst, PreviewPortLast: DefaultPreviewPortLast,
		Previews: PreviewALB{
			LoadBalancerARN:     "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/demo-previews/7a1b2c3d4e5f6a7b",
			LoadBalancerDNSName: "demo-previews-987654321.eu-west-1.elb.amazonaws.com",
			LoadBalancerSGID:    "sg-0aaaabbbbccccdddd",
			ListenerARN:         "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/demo-previews/7a1b2c3d4e5f6a7b/0c1d2e3f4a5b6c7d",
			Scheme:              "http",
		},
	}
}

const prSecret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:demo/pr-7/database-url-AbCdEf"

const digestRef = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/demo@sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"

func previewHost() DeployParams {
	s := sharedOut()
	s.Previews.Scheme, s.Previews.Domain, s.PreviewPortFirst, s.PreviewPortLast = "https", "preview.example.com", 0, 0
	return DeployParams{Stack: "demo-pr-42", Role: RolePreview, Image: digestRef,
		Env:  map[string]string{"APP_MESSAGE": "Hello from PR 42", "APP_COLOR": "teal"},
		Host: "pr-42.preview.example.com", Priority: 42, Shared: s}
}

func previewPort() DeployParams {
	return DeployParams{Stack: "demo-pr-7", Role: RolePreview, Image: digestRef,
		Env: map[string]string{"APP_MESSAGE": "Hello from PR 7"}, Priority: 107, ListenerPort: 8003, Shared: sharedOut(),
		DatabaseSecretARN: prSecret}
}

func release() DeployParams {
	return DeployParams{Stack: "demo-prod-20261202041500-0123abc", Role: RoleProduction, Image: digestRef,
		Env: map[string]string{"APP_MESSAGE": "Hello", "APP_COLOR": "navy"}, CPU: 512, Memory: 1024, DesiredCount: 2,
		Priority: 900, Shared: sharedOut(),
		DatabaseSecretARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:demo/prod/database-url-XyZ123"}
}

func render(ps []cfntypes.Parameter) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(aws.ToString(p.ParameterKey) + "=" + aws.ToString(p.ParameterValue) + "\n")
	}
	return b.String()
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
		t.Fatalf("read golden file (run go test ./infra -update to write it): %v", err)
	}
	if got != string(want) {
		t.Errorf("parameters differ from %s (rerun with -update if intended):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestParametersMatchGoldenFiles(t *testing.T) {
	cases := []struct {
		name   string
		params func() ([]cfntypes.Parameter, error)
	}{
		{"deploy-preview-host.golden", previewHost().Parameters},
		{"deploy-preview-port.golden", previewPort().Parameters},
		{"deploy-release.golden", release().Parameters},
		{"shared-defaults.golden", SharedParams{App: "demo"}.Parameters},
		{"shared-domain.golden", SharedParams{App: "demo", VPCID: "vpc-0123456789abcdef0",
			SubnetIDs:      []string{"subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"},
			CertificateARN: "arn:aws:acm:eu-west-1:123456789012:certificate/8f6c1f4e-1111-2222-3333-444455556666",
			Domain:         "preview.example.com", HostedZoneID: "Z0123456789ABCDEFGHIJ", LogRetentionDays: 30}.Parameters},
		{"shared-database.golden", SharedParams{App: "demo", Database: true, MaxACU: 4.5}.Parameters},
		{"shared-scanner-settings.golden", SharedParams{App: "demo", ContainerInsights: "enhanced", AccessLogsBucket: "acme-alb-logs",
			LogsKMSKeyARN: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}.Parameters},
		{"shared-preview-domain.golden", SharedParams{App: "demo", Domain: "example.com", HostedZoneID: "Z0123456789ABCDEFGHIJ",
			CertificateARN: "arn:aws:acm:eu-west-1:123456789012:certificate/8f6c1f4e-1111-2222-3333-444455556666",
			PreviewDomain:  "example-preview.com", PreviewHostedZoneID: "Z9876543210ABCDEFGHIJ",
			PreviewCertificateARN: "arn:aws:acm:eu-west-1:123456789012:certificate/0a0a0a0a-1111-2222-3333-444455556666"}.Parameters},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps, err := c.params()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, render(ps))
		})
	}
}

// Every parameter the builders pass is declared by the template, and every
// template parameter without a default is passed.
func TestParametersMatchTemplates(t *testing.T) {
	cases := []struct {
		template string
		params   func() ([]cfntypes.Parameter, error)
		rendered func() (string, error)
	}{
		{"deploy.yaml", previewHost().Parameters, previewHost().Template},
		{"deploy.yaml", release().Parameters, release().Template},
		{"shared.yaml", SharedParams{App: "demo"}.Parameters, nil},
		{"shared.yaml", SharedParams{App: "demo", Database: true}.Parameters, nil},
	}
	for _, c := range cases {
		decl := loadTemplate(t, c.template)["Parameters"].(map[string]any)
		if c.rendered != nil { // the deploy template as rendered for those settings
			text, err := c.rendered()
			if err != nil {
				t.Fatal(err)
			}
			decl = decodeTemplate(t, c.template, text)["Parameters"].(map[string]any)
		}
		ps, err := c.params()
		if err != nil {
			t.Fatal(err)
		}
		passed := map[string]bool{}
		for _, p := range ps {
			k := aws.ToString(p.ParameterKey)
			passed[k] = true
			if _, ok := decl[k]; !ok {
				t.Errorf("%s: parameter %s is passed but not declared", c.template, k)
			}
		}
		for k := range decl {
			if !passed[k] {
				t.Errorf("%s: parameter %s is declared but never passed (an update that omits it counts as a change)", c.template, k)
			}
		}
	}
}

func TestDeployParamsRefuseBadSettings(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(p *DeployParams)
		expect string
	}{
		{"preview drains at most 10 s", func(p *DeployParams) { p.DeregistrationDelay = 11 * time.Second }, "at most 10s"},
		{"release drains at most 30 s", func(p *DeployParams) { *p = release(); p.DeregistrationDelay = 31 * time.Second }, "at most 30s"},
		{"production gets no host", func(p *DeployParams) { *p = release(); p.Host = "www.example.com" }, "production stack gets no host"},
		{"preview needs a host or a port", func(p *DeployParams) { p.Host = "" }, "needs one"},
		{"not both host and port", func(p *DeployParams) { p.ListenerPort = 8001 }, "not both"},
		{"port outside the shared range", func(p *DeployParams) { *p = previewPort(); p.ListenerPort = 9000 }, "outside the preview range 8001-8040"},
		{"priority is required", func(p *DeployParams) { p.Priority = 0 }, "priority 0"},
		{"Fargate size", func(p *DeployParams) { p.CPU, p.Memory = 256, 4096 }, "Fargate takes 512-2048"},
		{"too many variables", func(p *DeployParams) {
			p.Env = map[string]string{}
			for i := range MaxEnv + 1 {
				p.Env[fmt.Sprintf("V%d", i)] = "x"
			}
		}, "at most 150"},
		{"value too long for a parameter", func(p *DeployParams) { p.Env = map[string]string{"BIG": strings.Repeat("x", 4097)} }, "at most 4096"},
		{"reserved variable", func(p *DeployParams) { p.Env = map[string]string{"SLIPWAY_STACK": "x"} }, "set by Slipway itself"},
		{"no image", func(p *DeployParams) { p.Image = "" }, "push the image first"},
		{"shared outputs missing", func(p *DeployParams) { p.Shared.Previews.ListenerARN = "" }, "ListenerArn is empty"},
		{"a release's outputs missing", func(p *DeployParams) { *p = release(); p.Shared.ListenerARN = "" }, "ListenerArn is empty"},
		{"unknown role", func(p *DeployParams) { p.Role = "staging" }, `role "staging"`},
		{"database URL never in plain environment", func(p *DeployParams) { p.Env = map[string]string{"DATABASE_URL": "postgres://x"} }, "as a secret"},
		{"database secret is a Secrets Manager ARN", func(p *DeployParams) { p.DatabaseSecretARN = "demo/pr-42/database-url" }, "not a Secrets Manager secret ARN"},
		{"a preview reads only preview secrets", func(p *DeployParams) {
			p.DatabaseSecretARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:demo/prod/database-url-XyZ123"
		}, "must be named demo/pr-"},
		{"a preview gets only its own pull request's database", func(p *DeployParams) {
			p.DatabaseSecretARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:demo/pr-4/database-url-XyZ123"
		}, "must be named demo/pr-42/"},
		{"a release reads only its app's secrets", func(p *DeployParams) {
			*p = release()
			p.DatabaseSecretARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other/prod/database-url-XyZ123"
		}, "must be named demo/"},
		{"app tasks security group from the shared stack", func(p *DeployParams) { p.Shared.AppTasksSGID = "" }, "AppTasksSecurityGroupId is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := previewHost()
			c.edit(&p)
			_, err := p.Parameters()
			if err == nil || !strings.Contains(err.Error(), c.expect) {
				t.Fatalf("err = %v, want it to say %q", err, c.expect)
			}
		})
	}
}

func TestSharedParamsRefuseBadSettings(t *testing.T) {
	cases := []struct {
		name   string
		p      SharedParams
		expect string
	}{
		{"app name", SharedParams{App: "Demo_App"}, "invalid app name"},
		{"VPC without subnets", SharedParams{App: "demo", VPCID: "vpc-0123456789abcdef0"}, "at least two public subnets"},
		{"domain without zone", SharedParams{App: "demo", Domain: "example.com"}, "set both"},
		{"preview domain without zone", SharedParams{App: "demo", PreviewDomain: "example-preview.com"}, "preview domain \"example-preview.com\" and hosted zone \"\": set both"},
		{"port range past the listener quota", SharedParams{App: "demo", PreviewPortFirst: 8000, PreviewPortLast: 8100}, "at most 50 listeners"},
		{"bad CIDR", SharedParams{App: "demo", VPCCIDR: "10.0.0.0/33"}, "CIDR"},
		{"subnet outside the VPC", SharedParams{App: "demo", VPCCIDR: "10.1.0.0/16"}, "inside the VPC's 10.1.0.0/16"},
		{"overlapping subnets", SharedParams{App: "demo", SubnetCIDRs: [2]string{"10.42.0.0/20", "10.42.8.0/24"}}, "do not overlap"},
		{"retention CloudWatch refuses", SharedParams{App: "demo", LogRetentionDays: 10}, "log retention 10"},
		{"container insights ECS does not know", SharedParams{App: "demo", ContainerInsights: "on"}, "want disabled, enabled or enhanced"},
		{"a log key that is not a KMS key", SharedParams{App: "demo", LogsKMSKeyARN: "alias/aws/logs"}, "want a KMS key ARN"},
		{"too few release images kept for rollbacks", SharedParams{App: "demo", ReleaseImagesKept: 3}, "want at least 10"},
		{"capacity without a database", SharedParams{App: "demo", MaxACU: 4}, "without a database"},
		{"capacity below 1 ACU", SharedParams{App: "demo", Database: true, MaxACU: 0.5}, "want 1-256"},
		{"capacity in half ACUs", SharedParams{App: "demo", Database: true, MaxACU: 2.25}, "steps of 0.5"},
		{"capacity above Aurora's maximum", SharedParams{App: "demo", Database: true, MaxACU: 512}, "want 1-256"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.p.Parameters()
			if err == nil || !strings.Contains(err.Error(), c.expect) {
				t.Fatalf("err = %v, want it to say %q", err, c.expect)
			}
		})
	}
}

func TestParseSharedOutputs(t *testing.T) {
	out := func(k, v string) cfntypes.Output {
		return cfntypes.Output{OutputKey: aws.String(k), OutputValue: aws.String(v)}
	}
	all := []cfntypes.Output{
		out(OutputRepositoryURI, "u"), out(OutputRepositoryName, "demo"), out(OutputClusterName, "demo"),
		out(OutputPreviewRepositoryURI, "pu"), out(OutputPreviewRepositoryName, "demo-previews"),
		out(OutputClusterARN, "arn"), out(OutputVPCID, "vpc-1"), out(OutputSubnetIDs, "['subnet-a', 'subnet-b']"),
		out(OutputExecutionRoleARN, "r"), out(OutputPreviewExecutionRole, "pr"), out(OutputAppTasksSGID, "sg-2"),
		out(OutputLogGroupName, "/slipway/demo"), out(OutputLoadBalancerARN, "lb"),
		out(OutputLoadBalancerDNSName, "dns"), out(OutputLoadBalancerSGID, "sg-1"), out(OutputALBListenerARN, "l"),
		out(OutputHTTPListenerARN, "l"), out(OutputScheme, "http"), out(OutputPreviewPortFirst, "8001"), out(OutputPreviewPortLast, "8040"),
		out(OutputPreviewLoadBalancerARN, "plb"), out(OutputPreviewLoadBalancerDNS, "pdns"), out(OutputPreviewLoadBalancerSGID, "sg-3"),
		out(OutputPreviewListenerARN, "pl"), out(OutputPreviewScheme, "http"),
	}
	s, err := ParseSharedOutputs(all)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(s.SubnetIDs, ",") != "subnet-a,subnet-b" || s.PreviewPortLast != 8040 || s.AppTasksSGID != "sg-2" || s.PreviewExecutionRoleARN != "pr" {
		t.Fatalf("parsed %+v", s)
	}
	if s.Database != nil {
		t.Errorf("no database outputs: Database = %+v, want nil", s.Database)
	}
	if p := s.ForRole(RolePreview); p.ListenerARN != "pl" || p.LoadBalancerARN != "plb" || p.LoadBalancerDNSName != "pdns" || p.LoadBalancerSGID != "sg-3" {
		t.Errorf("a preview's routing %+v, want the previews ALB's", p)
	}
	if p := s.ForRole(RolePreview); p.RepositoryURI != "pu" || p.RepositoryName != "demo-previews" {
		t.Errorf("a preview pushes to %s (%s), want the previews repository", p.RepositoryURI, p.RepositoryName)
	}
	if r := s.ForRole(RoleProduction); r.ListenerARN != "l" || r.LoadBalancerARN != "lb" || r.RepositoryURI != "u" {
		t.Errorf("a release's routing %+v, want production's", r)
	}
	_, err = ParseSharedOutputs(all[2:])
	if err == nil || !strings.Contains(err.Error(), "missing RepositoryUri, RepositoryName") || !strings.Contains(err.Error(), "shared:deploy") {
		t.Fatalf("err = %v, want the missing outputs and what to run", err)
	}
}

func TestParseSharedOutputsDatabase(t *testing.T) {
	out := func(k, v string) cfntypes.Output {
		return cfntypes.Output{OutputKey: aws.String(k), OutputValue: aws.String(v)}
	}
	base := []cfntypes.Output{
		out(OutputRepositoryURI, "u"), out(OutputRepositoryName, "demo"), out(OutputClusterName, "demo"),
		out(OutputPreviewRepositoryURI, "pu"), out(OutputPreviewRepositoryName, "demo-previews"),
		out(OutputClusterARN, "arn"), out(OutputVPCID, "vpc-1"), out(OutputSubnetIDs, "subnet-a,subnet-b"),
		out(OutputExecutionRoleARN, "r"), out(OutputPreviewExecutionRole, "pr"), out(OutputAppTasksSGID, "sg-2"),
		out(OutputLogGroupName, "/slipway/demo"), out(OutputLoadBalancerARN, "lb"),
		out(OutputLoadBalancerDNSName, "dns"), out(OutputLoadBalancerSGID, "sg-1"), out(OutputALBListenerARN, "l"),
		out(OutputHTTPListenerARN, "l"), out(OutputScheme, "http"), out(OutputPreviewPortFirst, "8001"), out(OutputPreviewPortLast, "8040"),
		out(OutputPreviewLoadBalancerARN, "plb"), out(OutputPreviewLoadBalancerDNS, "pdns"), out(OutputPreviewLoadBalancerSGID, "sg-3"),
		out(OutputPreviewListenerARN, "pl"), out(OutputPreviewScheme, "http"),
	}
	db := []cfntypes.Output{
		out(OutputDatabaseEndpoint, "demo-db.cluster-c1a2b3.eu-west-1.rds.amazonaws.com"), out(OutputDatabasePort, "5432"),
		out(OutputDatabaseClusterARN, "arn:aws:rds:eu-west-1:123456789012:cluster:demo-db"),
		out(OutputDatabaseSecretARN, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-0a1b-AbCdEf"),
	}
	s, err := ParseSharedOutputs(append(append([]cfntypes.Output{}, base...), db...))
	if err != nil {
		t.Fatal(err)
	}
	want := DatabaseOutputs{Endpoint: "demo-db.cluster-c1a2b3.eu-west-1.rds.amazonaws.com", Port: 5432,
		ClusterARN: "arn:aws:rds:eu-west-1:123456789012:cluster:demo-db",
		SecretARN:  "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-0a1b-AbCdEf"}
	if s.Database == nil || *s.Database != want {
		t.Fatalf("database outputs %+v, want %+v", s.Database, want)
	}
	_, err = ParseSharedOutputs(append(append([]cfntypes.Output{}, base...), db[0], db[2]))
	if err == nil || !strings.Contains(err.Error(), "DatabasePort, DatabaseSecretArn missing") || !strings.Contains(err.Error(), "shared:deploy") {
		t.Errorf("half the database outputs: err = %v, want the missing ones named and what to run", err)
	}
	bad := append(append([]cfntypes.Output{}, base...), db...)
	bad[len(base)+1] = out(OutputDatabasePort, "{'Fn::GetAtt': ...}")
	if _, err := ParseSharedOutputs(bad); err == nil || !strings.Contains(err.Error(), "is not a port") {
		t.Errorf("a port that is not a number: err = %v", err)
	}
}

// Previews run with the preview execution role (it reads only <app>/pr-*
// secrets), releases with the production one.
func TestDeployParamsPickTheExecutionRole(t *testing.T) {
	for _, c := range []struct {
		p    DeployParams
		want string
	}{{previewPort(), sharedOut().PreviewExecutionRoleARN}, {release(), sharedOut().ExecutionRoleARN}} {
		ps, err := c.p.Parameters()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if aws.ToString(p.ParameterKey) == "ExecutionRoleArn" && aws.ToString(p.ParameterValue) != c.want {
				t.Errorf("%s stack: execution role %s, want %s", c.p.Role, aws.ToString(p.ParameterValue), c.want)
			}
		}
	}
}

// ECS ignores failed load balancer health checks for the grace period after
// a task starts (ECS API Reference, CreateService,
// healthCheckGracePeriodSeconds); after it, two failed checks 5 s apart
// replace the task and the circuit breaker rolls the deploy back. An Aurora
// Serverless v2 cluster at 0 ACU is paused and takes about 15 s to resume,
// longer after a long pause (Aurora User Guide, "Scaling to Zero ACUs with
// automatic pause and resume"), so an app that checks its database in its
// health check needs more than the 10 s default.
func TestDeployParamsHealthGrace(t *testing.T) {
	grace := func(p DeployParams) string {
		ps, err := p.Parameters()
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ps {
			if aws.ToString(x.ParameterKey) == "HealthCheckGracePeriod" {
				return aws.ToString(x.ParameterValue)
			}
		}
		return "(none)"
	}
	withGrace := func(p DeployParams, d time.Duration) DeployParams { p.HealthGrace = d; return p }
	for _, c := range []struct {
		name string
		p    DeployParams
		want string
	}{
		{"no database: ECS's 10 s", previewHost(), "10"},
		{"a database: time for it to resume", previewPort(), "60"},
		{"the manifest's grace", withGrace(previewHost(), 90*time.Second), "90"},
		{"a database raises a short manifest grace", withGrace(release(), 20*time.Second), "60"},
		{"a database keeps a longer one", withGrace(release(), 120*time.Second), "120"},
	} {
		if got := grace(c.p); got != c.want {
			t.Errorf("%s: grace %s s, want %s", c.name, got, c.want)
		}
	}
	if _, err := withGrace(previewHost(), 1500*time.Millisecond).Parameters(); err == nil || !strings.Contains(err.Error(), "whole seconds") {
		t.Errorf("a grace of 1.5 s: %v, want a refusal", err)
	}
}
