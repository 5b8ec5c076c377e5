package awsprov

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/aws/smithy-go/middleware"

	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/testenv"
)

// awsEnv is one moto server with the provider's clients in front of an
// injector, and a stand-in for ECS's target registration.
type awsEnv struct {
	cfg aws.Config
	inj *injector
	elb *elbv2.Client
	log *testenv.SyncBuffer

	mu        sync.Mutex
	protected map[string]bool                  // stack ID -> termination protection
	edits     map[string]func(*cfntypes.Stack) // by stack name: what a test makes DescribeStacks say
}

func (e *awsEnv) endpoint() string { return aws.ToString(e.cfg.BaseEndpoint) }

// editStack makes DescribeStacks report stack as edit says, until the
// returned function is called.
func (e *awsEnv) editStack(name string, edit func(*cfntypes.Stack)) func() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.edits[name] = edit
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		delete(e.edits, name)
	}
}

func (e *awsEnv) describeStacks(_ any, next func() (any, error)) (any, error) {
	res, err := next()
	out, ok := res.(*cloudformation.DescribeStacksOutput)
	if err != nil || !ok {
		return res, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range out.Stacks {
		s := &out.Stacks[i]
		if e.protected[aws.ToString(s.StackId)] {
			s.EnableTerminationProtection = aws.Bool(true)
		}
		if edit := e.edits[aws.ToString(s.StackName)]; edit != nil {
			edit(s)
		}
	}
	return out, nil
}

// newAWSEnv starts moto with ECS services reporting one running task
// (MOTO_ECS_SERVICE_RUNNING: by default moto's services never run), and a
// goroutine that registers a target in every new target group, as ECS
// does for a started task (moto's ECS registers none; its registered
// targets are healthy at once).
func newAWSEnv(t testing.TB) *awsEnv {
	t.Helper()
	t.Setenv("MOTO_ECS_SERVICE_RUNNING", "1")
	cfg := motoConfig(testenv.Moto(t))
	inj := newInjector()
	cfg.APIOptions = append(cfg.APIOptions, inj.APIOption, zonePrefix)
	e := &awsEnv{cfg: cfg, inj: inj, elb: elbv2.NewFromConfig(motoConfig(aws.ToString(cfg.BaseEndpoint))), log: &testenv.SyncBuffer{},
		protected: map[string]bool{}, edits: map[string]func(*cfntypes.Stack){}}
	// moto answers UpdateTerminationProtection with HTTP 500 (not
	// implemented); AWS sets the protection, returns the stack ID and
	// reports it in DescribeStacks.
	inj.on("UpdateTerminationProtection", func(params any, _ func() (any, error)) (any, error) {
		in := params.(*cloudformation.UpdateTerminationProtectionInput)
		e.mu.Lock()
		e.protected[aws.ToString(in.StackName)] = aws.ToBool(in.EnableTerminationProtection)
		e.mu.Unlock()
		return &cloudformation.UpdateTerminationProtectionOutput{StackId: in.StackName}, nil
	})
	inj.on("DescribeStacks", e.describeStacks)
	installCreateAsStack(inj, cloudformation.NewFromConfig(motoConfig(aws.ToString(cfg.BaseEndpoint))))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.registerTargets(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if t.Failed() {
			t.Logf("progress:\n%s", e.log.String())
		}
	})
	return e
}

func (e *awsEnv) registerTargets(ctx context.Context) {
	done := map[string]bool{}
	for n := 0; ctx.Err() == nil; n++ {
		out, err := e.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{})
		if err == nil {
			for _, tg := range out.TargetGroups {
				arn := aws.ToString(tg.TargetGroupArn)
				if done[arn] {
					continue
				}
				done[arn] = true
				_, _ = e.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(arn),
					Targets: []elbtypes.TargetDescription{{Id: aws.String(fmt.Sprintf("10.42.0.%d", len(done)+10)), Port: aws.Int32(8080)}}})
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// provider is the aws provider for app on this moto, host mode unless
// domain is "".
func (e *awsEnv) provider(app, domain string) *Provider {
	o := Options{App: app, HealthTimeout: 3 * time.Second, Poll: 20 * time.Millisecond, Log: e.log,
		Stack: cfnstack.Options{Poll: 20 * time.Millisecond, Timeout: 5 * time.Second, BusyTimeout: 300 * time.Millisecond}}
	if domain != "" {
		o.Shared.Domain, o.Shared.HostedZoneID = domain, e.hostedZone(domain)
	}
	return New(Clients{CFN: cloudformation.NewFromConfig(e.cfg), ELB: elbv2.NewFromConfig(e.cfg), ECS: ecs.NewFromConfig(e.cfg),
		DDB: dynamodb.NewFromConfig(e.cfg), CW: cloudwatch.NewFromConfig(e.cfg)}, o)
}

// hostedZone makes a Route 53 zone for domain (through a stack: the
// provider has no Route 53 client of its own) and returns its ID.
func (e *awsEnv) hostedZone(domain string) string {
	ctx := context.Background()
	cf := cloudformation.NewFromConfig(motoConfig(aws.ToString(e.cfg.BaseEndpoint)))
	name := "zone-" + strings.ReplaceAll(domain, ".", "-")
	body := "Resources:\n  Zone:\n    Type: AWS::Route53::HostedZone\n    Properties: {Name: " + domain + "}\nOutputs:\n  Id: {Value: !Ref Zone}\n"
	if _, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(body)}); err != nil {
		panic("create hosted zone: " + err.Error())
	}
	out, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil || len(out.Stacks[0].Outputs) == 0 {
		panic(fmt.Sprintf("read hosted zone: %v", err))
	}
	// AWS zone IDs start with Z (and infra checks that); moto's do not.
	// The provider gets "Z"+moto's ID; zonePrefix strips it on the way
	// to moto.
	return "Z" + strings.TrimPrefix(aws.ToString(out.Stacks[0].Outputs[0].OutputValue), "/hostedzone/")
}

// zonePrefix removes the Z added by hostedZone from the HostedZoneId
// parameter of a change set, before it is sent to moto.
func zonePrefix(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("motoZoneID",
		func(ctx context.Context, i middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if in, ok := i.Parameters.(*cloudformation.CreateChangeSetInput); ok {
				for i, p := range in.Parameters {
					if k := aws.ToString(p.ParameterKey); k == "HostedZoneId" || k == "PreviewHostedZoneId" {
						in.Parameters[i].ParameterValue = aws.String(strings.TrimPrefix(aws.ToString(p.ParameterValue), "Z"))
					}
				}
			}
			return next.HandleInitialize(ctx, i)
		}), middleware.Before)
}

func previewSpec(app string, pr int, domain string) deploy.Spec {
	commit := strings.Repeat(fmt.Sprint(pr%10), 40)
	digest := "sha256:" + strings.Repeat(fmt.Sprint(pr%10), 64)
	return deploy.Spec{Stack: fmt.Sprintf("%s-pr-%d", app, pr), Role: deploy.RolePreview, PR: pr, Commit: commit,
		Image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + app + "@" + digest, Digest: digest,
		Host: fmt.Sprintf("pr-%d.%s", pr, domain), Env: map[string]string{"APP_MESSAGE": "hi"}}
}

func releaseSpec(app, suffix string, n int) deploy.Spec {
	s := previewSpec(app, n, "")
	s.Stack, s.Role, s.PR, s.Host = app+"-prod-"+suffix, deploy.RoleProduction, 0, ""
	return s
}
