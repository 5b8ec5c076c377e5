package awsprov

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// motoConfig is an SDK configuration for a moto server: static dummy
// credentials, the endpoint override, and no shared files read.
func motoConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// albFixture is a shared ALB with an HTTP listener, made in moto.
type albFixture struct {
	cfg               aws.Config
	elb               *elbv2.Client
	lb, listener, vpc string
}

func newALB(t *testing.T, endpoint, name string) albFixture {
	t.Helper()
	cfg := motoConfig(endpoint)
	ctx := context.Background()
	body, err := os.ReadFile("testdata/alb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cf := cloudformation.NewFromConfig(cfg)
	if _, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(string(body))}); err != nil {
		t.Fatalf("create fixture ALB: %v", err)
	}
	out, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	f := albFixture{cfg: cfg, elb: elbv2.NewFromConfig(cfg)}
	for _, o := range out.Stacks[0].Outputs {
		switch aws.ToString(o.OutputKey) {
		case "LoadBalancerArn":
			f.lb = aws.ToString(o.OutputValue)
		case "ListenerArn":
			f.listener = aws.ToString(o.OutputValue)
		case "VpcId":
			f.vpc = aws.ToString(o.OutputValue)
		}
	}
	if f.lb == "" || f.listener == "" || f.vpc == "" {
		t.Fatalf("fixture ALB outputs incomplete: %+v", out.Stacks[0].Outputs)
	}
	return f
}

// targetGroup creates an ip target group named name.
func (f albFixture) targetGroup(t *testing.T, name string) string {
	t.Helper()
	out, err := f.elb.CreateTargetGroup(context.Background(), &elbv2.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080),
		VpcId: aws.String(f.vpc), TargetType: elbtypes.TargetTypeEnumIp,
	})
	if err != nil {
		t.Fatalf("create target group %s: %v", name, err)
	}
	return aws.ToString(out.TargetGroups[0].TargetGroupArn)
}

func (f albFixture) traffic(app string) *Traffic {
	return &Traffic{ELB: f.elb, App: app, LoadBalancer: f.lb, Listener: f.listener, ProductionHost: app + ".example.com"}
}

func tgName(i int) string { return fmt.Sprintf("tg-%d", i) }
