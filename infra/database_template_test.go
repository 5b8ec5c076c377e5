package infra

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The database settings, asserted on the template text: moto 5.2.5's
// CloudFormation skips AWS::RDS::DBCluster altogether and fails on an
// aurora-postgresql AWS::RDS::DBInstance, so none of this reaches moto
// (moto_database_test.go creates what it can).
func TestSharedTemplateDatabaseSettings(t *testing.T) {
	tpl := loadTemplate(t, "shared.yaml")
	res := func(path ...string) any { return at(t, tpl, append([]string{"Resources"}, path...)...) }
	cluster := func(path ...string) any { return res(append([]string{"DatabaseCluster", "Properties"}, path...)...) }
	sharedSubnets := map[string]any{"Fn::If": []any{"CreateVpc", []any{ref("SubnetA"), ref("SubnetB")}, ref("SubnetIds")}}
	cases := []struct {
		name string
		got  any
		want any
	}{
		{"off by default", at(t, tpl, "Parameters", "Database", "Default"), "false"},
		{"database resources only when asked for", at(t, tpl, "Conditions", "HasDatabase"), map[string]any{"Fn::Equals": []any{ref("Database"), "true"}}},
		{"cluster only with a database", res("DatabaseCluster", "Condition"), "HasDatabase"},
		{"instance only with a database", res("DatabaseInstance", "Condition"), "HasDatabase"},
		{"subnet group only with a database", res("DatabaseSubnetGroup", "Condition"), "HasDatabase"},
		{"database security group only with a database", res("DatabaseSecurityGroup", "Condition"), "HasDatabase"},
		{"Aurora PostgreSQL", cluster("Engine"), DatabaseEngine},
		{"a version that pauses at 0 ACU", cluster("EngineVersion"), DatabaseEngineVersion},
		{"serverless v2, 0 ACU minimum, maximum from the parameter", cluster("ServerlessV2ScalingConfiguration"), map[string]any{"MinCapacity": "0", "MaxCapacity": ref("DatabaseMaxCapacity")}},
		{"default maximum", at(t, tpl, "Parameters", "DatabaseMaxCapacity", "Default"), strconv.FormatFloat(DefaultMaxACU, 'f', -1, 64)},
		{"master password managed by RDS in Secrets Manager", cluster("ManageMasterUserPassword"), "true"},
		{"no password in the template", hasKey(cluster(), "MasterUserPassword"), false},
		{"storage encrypted", cluster("StorageEncrypted"), "true"},
		{"RDS Data API on (CREATE DATABASE without a task)", cluster("EnableHttpEndpoint"), "true"},
		{"snapshot when the stack deletes the cluster", res("DatabaseCluster", "DeletionPolicy"), "Snapshot"},
		{"snapshot when an update replaces the cluster", res("DatabaseCluster", "UpdateReplacePolicy"), "Snapshot"},
		{"named <app>-db (IAM scope; a replacing change fails)", cluster("DBClusterIdentifier"), map[string]any{"Fn::Sub": "${App}-db"}},
		{"PostgreSQL port", cluster("Port"), strconv.Itoa(DatabasePort)},
		{"in the stack's subnets", cluster("DBSubnetGroupName"), ref("DatabaseSubnetGroup")},
		{"subnet group over the stack's subnets", res("DatabaseSubnetGroup", "Properties", "SubnetIds"), sharedSubnets},
		{"behind its own security group", cluster("VpcSecurityGroupIds"), []any{map[string]any{"Fn::GetAtt": "DatabaseSecurityGroup.GroupId"}}},
		{"one serverless instance", res("DatabaseInstance", "Properties", "DBInstanceClass"), "db.serverless"},
		{"the instance is in the cluster", res("DatabaseInstance", "Properties", "DBClusterIdentifier"), ref("DatabaseCluster")},
		{"not publicly accessible (the subnets are public)", res("DatabaseInstance", "Properties", "PubliclyAccessible"), "false"},
		{"5432 only from the app's tasks", res("DatabaseSecurityGroup", "Properties", "SecurityGroupIngress"), []any{map[string]any{
			"Description": "PostgreSQL from the app's tasks", "IpProtocol": "tcp", "FromPort": "5432", "ToPort": "5432",
			"SourceSecurityGroupId": map[string]any{"Fn::GetAtt": "AppTasksSecurityGroup.GroupId"}}}},
		{"the database calls out to nothing (no default allow-all egress)", res("DatabaseSecurityGroup", "Properties", "SecurityGroupEgress"), []any{map[string]any{
			"Description": "Disallow all traffic", "IpProtocol": "icmp", "FromPort": "252", "ToPort": "86", "CidrIp": "255.255.255.255/32"}}},
		{"the app tasks group admits nothing itself", hasKey(res("AppTasksSecurityGroup", "Properties"), "SecurityGroupIngress"), false},
		{"endpoint output", at(t, tpl, "Outputs", OutputDatabaseEndpoint, "Value"), map[string]any{"Fn::GetAtt": "DatabaseCluster.Endpoint.Address"}},
		{"port output", at(t, tpl, "Outputs", OutputDatabasePort, "Value"), map[string]any{"Fn::GetAtt": "DatabaseCluster.Endpoint.Port"}},
		{"cluster ARN output", at(t, tpl, "Outputs", OutputDatabaseClusterARN, "Value"), map[string]any{"Fn::GetAtt": "DatabaseCluster.DBClusterArn"}},
		{"master secret output", at(t, tpl, "Outputs", OutputDatabaseSecretARN, "Value"), map[string]any{"Fn::GetAtt": "DatabaseCluster.MasterUserSecret.SecretArn"}},
		{"app tasks group output", at(t, tpl, "Outputs", OutputAppTasksSGID, "Value"), map[string]any{"Fn::GetAtt": "AppTasksSecurityGroup.GroupId"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("got %#v\nwant %#v", c.got, c.want)
			}
		})
	}
	for _, k := range []string{OutputDatabaseEndpoint, OutputDatabasePort, OutputDatabaseClusterARN, OutputDatabaseSecretARN} {
		if got := at(t, tpl, "Outputs", k, "Condition"); got != "HasDatabase" {
			t.Errorf("output %s: condition %v, want HasDatabase (no database, no output)", k, got)
		}
	}
	// Nothing else admits anyone to the database: no ingress resource names
	// its security group.
	for name, r := range tpl["Resources"].(map[string]any) {
		if r.(map[string]any)["Type"] == "AWS::EC2::SecurityGroupIngress" && strings.Contains(flatten(r), "DatabaseSecurityGroup") {
			t.Errorf("%s opens the database security group", name)
		}
	}
}

// Each execution role reads only its secrets: production the app's
// (<app>/*), previews only the previews' (<app>/pr-*).
func TestSharedTemplateExecutionRolesReadOnlyTheirSecrets(t *testing.T) {
	tpl := loadTemplate(t, "shared.yaml")
	for role, want := range map[string]string{
		"TaskExecutionRole": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${App}/*",
		"PreviewExecRole":   "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${App}/pr-*",
	} {
		pols := at(t, tpl, "Resources", role, "Properties", "Policies").([]any)
		if len(pols) != 1 {
			t.Fatalf("%s: %d inline policies, want 1", role, len(pols))
		}
		st := at(t, pols[0], "PolicyDocument", "Statement").([]any)
		wantSt := []any{map[string]any{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": map[string]any{"Fn::Sub": want}}}
		if !reflect.DeepEqual(st, wantSt) {
			t.Errorf("%s reads %#v\nwant %#v", role, st, wantSt)
		}
	}
}

// The container gets DATABASE_URL from the secret, never as plain
// environment, and the tasks carry the group the database admits.
func TestDeployTemplateDatabaseSettings(t *testing.T) {
	tpl := loadTemplate(t, "deploy.yaml")
	res := func(path ...string) any { return at(t, tpl, append([]string{"Resources"}, path...)...) }
	cases := []struct {
		name string
		got  any
		want any
	}{
		{"DATABASE_URL from the secret only when one is given", res("TaskDefinition", "Properties", "ContainerDefinitions", "#0", "Secrets"), map[string]any{"Fn::If": []any{"HasDatabaseSecret",
			[]any{map[string]any{"Name": DatabaseURLEnv, "ValueFrom": ref("DatabaseSecretArn")}}, ref("AWS::NoValue")}}},
		{"no secret by default", at(t, tpl, "Parameters", "DatabaseSecretArn", "Default"), ""},
		{"tasks carry their own group and the app tasks group", res("Service", "Properties", "NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups"), []any{ref("TaskSecurityGroup"), ref("AppTasksSecurityGroupId")}},
		{"the task security group is an output (for a one-off RunTask)", at(t, tpl, "Outputs", OutputDeployTaskSGID, "Value"), map[string]any{"Fn::GetAtt": "TaskSecurityGroup.GroupId"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("got %#v\nwant %#v", c.got, c.want)
			}
		})
	}
	if strings.Contains(flatten(res("TaskDefinition", "Properties", "ContainerDefinitions", "#0", "Environment")), DatabaseURLEnv) {
		t.Errorf("DATABASE_URL appears in the plain environment")
	}
}

func hasKey(m any, k string) bool {
	_, ok := m.(map[string]any)[k]
	return ok
}

// flatten renders a decoded template fragment as text, for searching.
func flatten(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				b.WriteString(k + " ")
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		default:
			b.WriteString(strings.TrimSpace(strings.ReplaceAll(fmtAny(x), "\n", " ")) + " ")
		}
	}
	walk(v)
	return b.String()
}

func fmtAny(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// Aurora PostgreSQL scales to 0 ACU from 16.3, 15.7, 14.12 and 13.15 on
// (and in every later major version); the RDS Data API on Serverless v2
// needs 17.4 in major 17 ("Supported Regions and Aurora DB engines for RDS
// Data API", Aurora User Guide). The template's version must be one.
func TestDatabaseVersionPausesAtZero(t *testing.T) {
	minMinor := map[int]int{13: 15, 14: 12, 15: 7, 16: 3, 17: 4}
	supports := func(v string) bool {
		var major, minor int
		if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil {
			return false
		}
		want, known := minMinor[major]
		return major > 17 || known && minor >= want
	}
	for v, want := range map[string]bool{"16.3": true, "16.2": false, "15.7": true, "14.11": false, "13.15": true, "17.4": true, "17.2": false, "18.1": true, "12.22": false, "16": false} {
		if supports(v) != want {
			t.Fatalf("the check itself: %s supports 0 ACU = %v, want %v", v, !want, want)
		}
	}
	got := at(t, loadTemplate(t, "shared.yaml"), "Resources", "DatabaseCluster", "Properties", "EngineVersion").(string)
	if !supports(got) {
		t.Errorf("engine version %s cannot scale to 0 ACU: use 17.4+, 16.3+, 15.7+, 14.12+ or 13.15+", got)
	}
}
