package infra

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"gopkg.in/yaml.v3"
)

// What moto 5.2.5 cannot create of the database, measured: its
// CloudFormation has no AWS::RDS::DBCluster (the resource is skipped, and
// Fn::GetAtt on it in Outputs answers HTTP 500), and an aurora-postgresql
// AWS::RDS::DBInstance fails CreateStack with HTTP 500 (KeyError: no default
// engine version; DBClusterIdentifier is ignored). Real CloudFormation
// creates both. So this test removes the cluster, its instance and the four
// outputs read from the cluster, and creates the rest of the shared stack
// with the database on: the subnet group, the database's security group and
// the app tasks group are read back through the RDS and EC2 APIs. The
// cluster's settings (serverless v2 at 0 ACU, engine and version, managed
// master secret, encryption, Data API, snapshot policies, not publicly
// accessible) are asserted on the template text instead
// (database_template_test.go), and cfn-lint checks the template.
var motoUnsupported = struct{ resources, outputs []string }{
	resources: []string{"DatabaseCluster", "DatabaseInstance"},
	outputs:   []string{OutputDatabaseEndpoint, OutputDatabasePort, OutputDatabaseClusterARN, OutputDatabaseSecretARN},
}

func TestSharedStackWithDatabaseOnMoto(t *testing.T) {
	cfn, _, _ := motoClients(t)
	ctx := context.Background()
	cfg := cfn.Options()
	rdsc := rds.New(rds.Options{Region: cfg.Region, Credentials: cfg.Credentials, BaseEndpoint: cfg.BaseEndpoint, HTTPClient: cfg.HTTPClient})
	ec2c := ec2.New(ec2.Options{Region: cfg.Region, Credentials: cfg.Credentials, BaseEndpoint: cfg.BaseEndpoint, HTTPClient: cfg.HTTPClient})

	sp, err := SharedParams{App: "demo", Database: true}.Parameters()
	if err != nil {
		t.Fatal(err)
	}
	st, err := createStack(t, cfn, "demo-shared", withoutMotoUnsupported(t, SharedTemplate()), sp, nil)
	if err != nil {
		t.Fatalf("create the shared stack with the database on (cluster and instance removed for moto): %v", err)
	}
	so, err := ParseSharedOutputs(st.Outputs)
	if err != nil {
		t.Fatal(err)
	}
	phys := map[string]string{}
	res, err := cfn.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String("demo-shared")})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.StackResources {
		phys[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.PhysicalResourceId)
	}

	t.Run("the subnet group spans the stack's subnets", func(t *testing.T) {
		groups, err := rdsc.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(groups.DBSubnetGroups) != 1 {
			t.Fatalf("%d DB subnet groups, want the stack's one", len(groups.DBSubnetGroups))
		}
		g := groups.DBSubnetGroups[0]
		var subnets []string
		for _, s := range g.Subnets {
			subnets = append(subnets, aws.ToString(s.SubnetIdentifier))
		}
		slices.Sort(subnets)
		want := slices.Sorted(slices.Values(so.SubnetIDs))
		if !slices.Equal(subnets, want) || aws.ToString(g.VpcId) != so.VPCID {
			t.Errorf("subnet group in %s over %v, want %s over %v", aws.ToString(g.VpcId), subnets, so.VPCID, want)
		}
	})

	t.Run("the database admits 5432 from the app tasks group only", func(t *testing.T) {
		dbSG, appSG := phys["DatabaseSecurityGroup"], so.AppTasksSGID
		if dbSG == "" || appSG == "" {
			t.Fatalf("database group %q, app tasks group %q: want both created", dbSG, appSG)
		}
		out, err := ec2c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{dbSG, appSG}})
		if err != nil {
			t.Fatal(err)
		}
		// (Egress is not checked: moto ignores SecurityGroupEgress in a
		// template and keeps the default allow-all rule; real EC2 replaces
		// it. The template text is asserted in database_template_test.go.)
		if len(out.SecurityGroups) != 2 {
			t.Fatalf("%d security groups read back, want the database's and the app tasks'", len(out.SecurityGroups))
		}
		for _, g := range out.SecurityGroups {
			var rules []string
			for _, p := range g.IpPermissions {
				for _, pair := range p.UserIdGroupPairs {
					rules = append(rules, aws.ToString(p.IpProtocol)+":"+itoa(int(aws.ToInt32(p.FromPort)))+"-"+itoa(int(aws.ToInt32(p.ToPort)))+" from "+aws.ToString(pair.GroupId))
				}
				for _, r := range p.IpRanges {
					rules = append(rules, aws.ToString(p.IpProtocol)+" from "+aws.ToString(r.CidrIp))
				}
			}
			want := "" // the app tasks group admits nothing
			if aws.ToString(g.GroupId) == dbSG {
				want = "tcp:5432-5432 from " + appSG
			}
			if got := strings.Join(rules, "; "); got != want {
				t.Errorf("group %s (%s) admits %q, want %q", aws.ToString(g.GroupId), aws.ToString(g.Description), got, want)
			}
		}
	})

	// Last: a refused CreateStack can leave moto's DescribeStacks failing.
	defer t.Run("moto still cannot create the cluster (else read it back instead of removing it)", func(t *testing.T) {
		probe, err := SharedParams{App: "probe", Database: true}.Parameters()
		if err != nil {
			t.Fatal(err)
		}
		_, err = cfn.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String("probe-shared"),
			TemplateBody: aws.String(SharedTemplate()), Parameters: probe},
			func(o *cloudformation.Options) { o.RetryMaxAttempts = 1 }) // moto answers 500, which the SDK retries
		if err == nil {
			t.Errorf("moto created the full shared stack with the database: drop withoutMotoUnsupported and check the cluster with DescribeDBClusters")
		} else if !strings.Contains(err.Error(), "StatusCode: 500") {
			t.Errorf("the full template was refused for another reason than moto's missing support: %v", err)
		}
	})

	t.Run("deploy stacks get the app tasks group and the preview execution role", func(t *testing.T) {
		if !strings.HasPrefix(so.AppTasksSGID, "sg-") || !strings.Contains(so.PreviewExecutionRoleARN, ":role/") || so.PreviewExecutionRoleARN == so.ExecutionRoleARN {
			t.Errorf("outputs: app tasks group %q, preview role %q, production role %q", so.AppTasksSGID, so.PreviewExecutionRoleARN, so.ExecutionRoleARN)
		}
	})
}

// withoutMotoUnsupported returns the template without what moto cannot
// create (motoUnsupported), and fails if any of it is missing, so the list
// stays true to the template.
func withoutMotoUnsupported(t *testing.T, body string) string {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	drop := func(section string, keys []string) {
		m := mapValue(t, doc.Content[0], section)
		for _, k := range keys {
			found := false
			for i := 0; i+1 < len(m.Content); i += 2 {
				if m.Content[i].Value == k {
					m.Content = append(m.Content[:i], m.Content[i+2:]...)
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("%s.%s is not in the template: update motoUnsupported", section, k)
			}
		}
	}
	drop("Resources", motoUnsupported.resources)
	drop("Outputs", motoUnsupported.outputs)
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func mapValue(t *testing.T, m *yaml.Node, key string) *yaml.Node {
	t.Helper()
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	t.Fatalf("template has no %s", key)
	return nil
}
