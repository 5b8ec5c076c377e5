package awsprov

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/slipway/slipway/internal/deploy"
)

// One moto server for every test against it (a server takes seconds to
// start); each subtest has an app or a load balancer of its own.
func TestOnMoto(t *testing.T) {
	e := newAWSEnv(t)

	t.Run("the production rule is created once at the lowest priority and shifted with one ModifyRule", func(t *testing.T) { testProductionRule(t, e) })

	t.Run("free priorities and ports skip what is taken and are refused past the range", func(t *testing.T) { testFreeSlots(t, e) })

	t.Run("a preview deploys healthy with its tags, host and rule, and is destroyed without a trace", func(t *testing.T) { testPreviewLifecycle(t, e) })

	t.Run("two PRs deployed at once get distinct rule priorities", func(t *testing.T) { testConcurrentPreviews(t, e) })

	t.Run("a priority another process takes between allocation and create is allocated again", func(t *testing.T) { testPriorityRace(t, e) })
	t.Run("a listener port another process takes between allocation and create is allocated again", func(t *testing.T) { testPortRace(t, e) })

	t.Run("a stack rolled back because its priority was taken is re-created at a free one", func(t *testing.T) { testRolledBackPriority(t, e) })

	t.Run("previews without a domain get free ports of the range, freed on destroy", func(t *testing.T) { testPreviewPorts(t, e) })

	t.Run("a release shifts the production rule with one call and Routes reads the weights back", func(t *testing.T) { testReleaseTraffic(t, e) })

	t.Run("shared-stack destroy is refused while previews exist, and works once they are gone", func(t *testing.T) { testSharedDestroy(t, e) })

	t.Run("faults leave production as it was", func(t *testing.T) { testFaults(t, e) })

	t.Run("the orchestration runs on the aws provider", func(t *testing.T) { testFlow(t, e) })

	t.Run("a deploy's timing names the health wait as the slowest phase when the target group is slow to turn healthy", func(t *testing.T) { testTimingNamesTheHealthWait(t, e) })

	t.Run("the lease names its holder, is renewed, and is taken over only after expiry", func(t *testing.T) { testLease(t, e) })

	t.Run("of 16 runs taking the lease at once exactly one wins", func(t *testing.T) { testLeaseRace(t, e) })

	t.Run("release v1, v2 and roll back to v1 with one ModifyRule; stacks carry branch, dirty, env and last live", func(t *testing.T) { testReleaseRollback(t, e) })

	t.Run("after traffic:set \"<prev>=90 <live>=10\" rollback moves all traffic to the previous release", func(t *testing.T) { testRollbackFromASplit(t, e) })

	t.Run("a release whose tests fail never gets traffic, is marked failed and is no rollback target", func(t *testing.T) { testFailedRelease(t, e) })

	t.Run("a release while another run holds the lock fails naming the holder", func(t *testing.T) { testReleaseLocked(t, e) })

	t.Run("a canary whose new stack answers 5xx in CloudWatch is moved back off and marked failed", func(t *testing.T) { testCanaryOnCloudWatch(t, e) })

	t.Run("a canary whose new stack's targets turn unhealthy during the bake fails with their reason and is moved back off", func(t *testing.T) { testCanaryUnhealthyTargets(t, e) })

	t.Run("Sample sums requests, 5xx and latency per stack from CloudWatch", func(t *testing.T) { testSampleSumsTheSteps(t, e) })

	t.Run("cleanup deletes exactly the stale stacks, scales the rollback target down, and a cold rollback scales it up first", func(t *testing.T) { testCleanupAndColdRollback(t, e) })

	t.Run("without the lock table the lease says to run shared:deploy", func(t *testing.T) { testLeaseNoTable(t, e) })
}

func testPreviewLifecycle(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	p := e.provider("tags", "tags.example.com")
	must(t, p.EnsureShared(ctx))
	// A later run (the preview role: it may not change the shared
	// stack) only reads a healthy shared stack.
	changeSets := e.inj.count("CreateChangeSet")
	p = New(Clients{CFN: p.cfn, ELB: p.elb, ECS: p.ecs}, p.o)
	must(t, p.EnsureShared(ctx))
	if n := e.inj.count("CreateChangeSet") - changeSets; n != 0 {
		t.Errorf("EnsureShared on a healthy shared stack created %d change sets, want none", n)
	}
	spec := previewSpec("tags", 7, "tags.example.com")
	st, err := p.Deploy(ctx, spec)
	must(t, err)
	if !st.Healthy || st.State != deploy.StateHealthy || st.PR != 7 || st.Commit != spec.Commit || st.Digest != spec.Digest {
		t.Errorf("deployed stack %+v, want healthy PR 7 with the spec's commit and digest", st)
	}
	r, err := p.Routes(ctx)
	must(t, err)
	if r.Hosts["pr-7.tags.example.com"] != "tags-pr-7" || len(r.Production) != 0 {
		t.Errorf("routes %+v, want pr-7's host and no production", r)
	}
	must(t, p.SetHost(ctx, "pr-7.tags.example.com", "tags-pr-7"))
	if err := p.SetHost(ctx, "pr-8.tags.example.com", "tags-pr-7"); err == nil {
		t.Error("SetHost of another host on a deployed preview succeeded; the host is the stack's")
	}
	// Re-deploying the same spec changes nothing and keeps the slot.
	before := stackParam(t, e, "tags-pr-7", "Priority")
	_, err = p.Deploy(ctx, spec)
	must(t, err)
	if after := stackParam(t, e, "tags-pr-7", "Priority"); after != before {
		t.Errorf("re-deploy moved the rule from priority %s to %s", before, after)
	}
	must(t, p.Delete(ctx, "tags-pr-7"))
	stacks, err := p.Stacks(ctx)
	must(t, err)
	if len(stacks) != 0 {
		t.Errorf("stacks after destroy: %+v", stacks)
	}
	shared, err := p.Shared(ctx)
	must(t, err)
	if n := ownRules(t, e, shared.Previews.ListenerARN); n != 0 {
		t.Errorf("%d listener rules left after destroying the only preview, want 0", n)
	}
	must(t, p.Delete(ctx, "tags-pr-7")) // destroying what is gone succeeds
}

func testConcurrentPreviews(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	p := e.provider("twin", "twin.example.com")
	must(t, p.EnsureShared(ctx))
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = p.Deploy(ctx, previewSpec("twin", i+1, "twin.example.com"))
		}()
	}
	wg.Wait()
	must(t, errors.Join(errs...))
	a, b := stackParam(t, e, "twin-pr-1", "Priority"), stackParam(t, e, "twin-pr-2", "Priority")
	if a == b || a == "" {
		t.Errorf("priorities %q and %q, want two distinct ones", a, b)
	}
	r, err := p.Routes(ctx)
	must(t, err)
	if len(r.Hosts) != 2 {
		t.Errorf("hosts %v, want both previews", r.Hosts)
	}
}

func testPriorityRace(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	p := e.provider("race", "race.example.com")
	must(t, p.EnsureShared(ctx))
	shared, err := p.Shared(ctx)
	must(t, err)
	// Another runner's deploy creates its rule at the same priority
	// first. AWS then fails this stack's rule with "Priority '1' is
	// currently in use" and the stack ends ROLLBACK_COMPLETE; moto
	// raises PriorityInUse from the create and leaves a half-made
	// stack, so the hook answers the create with that error itself.
	create := e.inj.hook("CreateChangeSet")
	var taken string
	e.inj.on("CreateChangeSet", func(params any, next func() (any, error)) (any, error) {
		in := params.(*cloudformation.CreateChangeSetInput)
		if aws.ToString(in.StackName) == "race-pr-1" && taken == "" {
			for _, prm := range in.Parameters {
				if aws.ToString(prm.ParameterKey) == "Priority" {
					taken = aws.ToString(prm.ParameterValue)
				}
			}
			tg := otherTargetGroup(t, e, "race-other")
			prio, _ := strconv.Atoi(taken)
			_, err := e.elb.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(shared.Previews.ListenerARN), Priority: aws.Int32(int32(prio)),
				Conditions: []elbtypes.RuleCondition{hostCondition("other.race.example.com")}, Actions: forward([]TargetWeight{{tg, 1}}, 0)})
			must(t, err)
			return nil, &elbtypes.PriorityInUseException{Message: aws.String("The specified priority is in use.")}
		}
		return create(params, next)
	})
	defer e.inj.on("CreateChangeSet", create)
	_, err = p.Deploy(ctx, previewSpec("race", 1, "race.example.com"))
	must(t, err)
	if got := stackParam(t, e, "race-pr-1", "Priority"); got == taken || got == "" {
		t.Errorf("deployed at priority %q, the one taken was %q: want another", got, taken)
	}
	if !strings.Contains(e.log.String(), "race-pr-1: rule priority "+taken+" was taken by another deploy meanwhile") {
		t.Error("the retry was not reported")
	}
}

func testPreviewPorts(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	p := e.provider("ports", "")
	p.o.Shared.PreviewPortFirst, p.o.Shared.PreviewPortLast = 9001, 9002
	must(t, p.EnsureShared(ctx))
	for pr := 1; pr <= 2; pr++ {
		_, err := p.Deploy(ctx, previewSpec("ports", pr, "ports"))
		must(t, err)
	}
	if port, ok := p.Port("pr-2.ports"); !ok || port != 9002 {
		t.Errorf("pr-2's port = %d, %v; want 9002", port, ok)
	}
	_, err := p.Deploy(ctx, previewSpec("ports", 3, "ports"))
	if err == nil || !strings.Contains(err.Error(), "every port of the preview range 9001-9002") {
		t.Fatalf("third preview on two ports: %v, want a refusal naming the range", err)
	}
	must(t, p.Delete(ctx, "ports-pr-1"))
	_, err = p.Deploy(ctx, previewSpec("ports", 3, "ports"))
	must(t, err)
	if port, _ := p.Port("pr-3.ports"); port != 9001 {
		t.Errorf("pr-3 got port %d, want the freed 9001", port)
	}
}

func testReleaseTraffic(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	p := e.provider("rel", "rel.example.com")
	must(t, p.EnsureShared(ctx))
	for _, s := range []string{"a", "b"} {
		_, err := p.Deploy(ctx, releaseSpec("rel", s, 1))
		must(t, err)
	}
	must(t, p.SetProduction(ctx, []deploy.Weight{{Stack: "rel-prod-a", Weight: 100}}))
	modifies := e.inj.count("ModifyRule")
	must(t, p.SetProduction(ctx, []deploy.Weight{{Stack: "rel-prod-a", Weight: 90}, {Stack: "rel-prod-b", Weight: 10}}))
	if n := e.inj.count("ModifyRule") - modifies; n != 1 {
		t.Errorf("a shift made %d ModifyRule calls, want 1", n)
	}
	r, err := p.Routes(ctx)
	must(t, err)
	want := []deploy.Weight{{Stack: "rel-prod-a", Weight: 90}, {Stack: "rel-prod-b", Weight: 10}}
	if len(r.Production) != 2 || r.Production[0] != want[0] || r.Production[1] != want[1] {
		t.Errorf("production read back %v, want %v", r.Production, want)
	}

	err = p.Delete(ctx, "rel-prod-b")
	if !errors.Is(err, deploy.ErrLive) {
		t.Fatalf("delete of a stack with 10%% of production: %v, want ErrLive", err)
	}
	must(t, p.SetProduction(ctx, []deploy.Weight{{Stack: "rel-prod-a", Weight: 100}}))
	must(t, p.Delete(ctx, "rel-prod-b")) // no traffic: it may go

	_, err = p.DestroyShared(ctx)
	if err == nil || !strings.Contains(err.Error(), "rel-prod-a") {
		t.Fatalf("shared destroy with a production stack left: %v, want a refusal naming rel-prod-a", err)
	}
	if _, err := p.Shared(ctx); err != nil {
		t.Fatalf("shared stack gone after a refused destroy: %v", err)
	}
}

func testSharedDestroy(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	p := e.provider("gone", "gone.example.com")
	must(t, p.EnsureShared(ctx))
	_, err := p.Deploy(ctx, previewSpec("gone", 4, "gone.example.com"))
	must(t, err)
	_, err = p.DestroyShared(ctx)
	if err == nil || !strings.Contains(err.Error(), "gone-pr-4") {
		t.Fatalf("shared destroy with a preview: %v, want a refusal naming gone-pr-4", err)
	}
	must(t, p.Delete(ctx, "gone-pr-4"))
	protection := e.inj.count("UpdateTerminationProtection")
	if _, err := p.DestroyShared(ctx); err != nil {
		// moto refuses to delete the VPC while the ALB's ENIs hold it,
		// then drops the stack anyway (research/moto.md); AWS deletes
		// the ALB first.
		t.Logf("shared destroy on moto: %v", err)
	}
	if e.inj.count("UpdateTerminationProtection") != protection+1 {
		t.Error("termination protection was not turned off before the delete")
	}
}

func testRolledBackPriority(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	p := e.provider("rbk", "rbk.example.com")
	must(t, p.EnsureShared(ctx))
	spec := previewSpec("rbk", 1, "rbk.example.com")
	_, err := p.Deploy(ctx, spec)
	must(t, err)
	taken := stackParam(t, e, "rbk-pr-1", "Priority")
	// AWS: when another deploy's rule took the priority first, the
	// stack's ListenerRule fails ("Priority '1' is currently in use"), the
	// stack rolls back to ROLLBACK_COMPLETE and has no rule. moto never
	// fails a stack, so its status reads ROLLBACK_COMPLETE until the
	// engine deletes it (moto's copy of the rule stays, taking the
	// priority as the other deploy's would).
	undo := e.editStack("rbk-pr-1", func(s *cfntypes.Stack) {
		s.StackStatus, s.StackStatusReason = cfntypes.StackStatusRollbackComplete, aws.String("The following resource(s) failed to create: [ListenerRule].")
	})
	shared, err := p.Shared(ctx)
	must(t, err)
	tg := stackOutput(t, e, "rbk-pr-1", "TargetGroupArn")
	other := otherTargetGroup(t, e, "rbk-other")
	del := e.inj.hook("DeleteStack")
	e.inj.on("DeleteStack", func(params any, next func() (any, error)) (any, error) {
		undo()
		res, err := next()
		// AWS deletes the stack's target group with it; moto leaves it and
		// the rule. The rule stays as the other deploy's: it is re-pointed
		// to that deploy's group, and the leftover group deleted.
		rules, rerr := e.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: aws.String(shared.Previews.ListenerARN)})
		must(t, rerr)
		for _, r := range rules.Rules {
			if f := forwardOf(r.Actions); len(f) == 1 && f[0].TargetGroup == tg {
				_, rerr = e.elb.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: r.RuleArn, Actions: forward([]TargetWeight{{other, 1}}, 0)})
				must(t, rerr)
			}
		}
		_, rerr = e.elb.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(tg)})
		must(t, rerr)
		return res, err
	})
	defer e.inj.on("DeleteStack", del)
	_, err = p.Deploy(ctx, spec)
	must(t, err)
	if got := stackParam(t, e, "rbk-pr-1", "Priority"); got == taken {
		t.Errorf("re-created at priority %s, the one that was taken", got)
	}
	if !strings.Contains(e.log.String(), "rbk-pr-1 is failed (ROLLBACK_COMPLETE): deleting it to create it again") {
		t.Error("the re-create was not reported")
	}
}

// stackOutput reads an output of a stack straight from moto.
func stackOutput(t *testing.T, e *awsEnv, stack, key string) string {
	t.Helper()
	cf := cloudformation.NewFromConfig(motoConfig(e.endpoint()))
	out, err := cf.DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	must(t, err)
	for _, o := range out.Stacks[0].Outputs {
		if aws.ToString(o.OutputKey) == key {
			return aws.ToString(o.OutputValue)
		}
	}
	t.Fatalf("stack %s has no output %s", stack, key)
	return ""
}

// otherTargetGroup creates a target group in the shared VPC of moto.
func otherTargetGroup(t *testing.T, e *awsEnv, name string) string {
	t.Helper()
	vpcs, err := e.elb.DescribeLoadBalancers(context.Background(), &elbv2.DescribeLoadBalancersInput{})
	must(t, err)
	out, err := e.elb.CreateTargetGroup(context.Background(), &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: vpcs.LoadBalancers[0].VpcId, TargetType: elbtypes.TargetTypeEnumIp})
	must(t, err)
	return aws.ToString(out.TargetGroups[0].TargetGroupArn)
}

// stackParam reads a parameter of a stack straight from moto.
func stackParam(t *testing.T, e *awsEnv, stack, key string) string {
	t.Helper()
	cf := cloudformation.NewFromConfig(motoConfig(aws.ToString(e.cfg.BaseEndpoint)))
	out, err := cf.DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	must(t, err)
	for _, p := range out.Stacks[0].Parameters {
		if aws.ToString(p.ParameterKey) == key {
			return aws.ToString(p.ParameterValue)
		}
	}
	return ""
}

// ownRules counts the non-default rules of a listener.
func ownRules(t *testing.T, e *awsEnv, listener string) int {
	t.Helper()
	out, err := e.elb.DescribeRules(context.Background(), &elbv2.DescribeRulesInput{ListenerArn: aws.String(listener)})
	must(t, err)
	n := 0
	for _, r := range out.Rules {
		if !aws.ToBool(r.IsDefault) {
			n++
		}
	}
	return n
}

var releaseTime = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// flow is the orchestration over p, building spec's image.
func flow(p *Provider, spec deploy.Spec) *deploy.Flow {
	return &deploy.Flow{
		App: "fault", Target: p, Routing: testRouting{},
		Builder: &fixedImage{deploy.Image{Ref: spec.Image, Digest: spec.Digest, Commit: spec.Commit, Version: "v1"}},
		Tester:  passTester{}, Now: func() time.Time { return releaseTime },
	}
}

type fixedImage struct{ img deploy.Image }

func (f *fixedImage) Build(context.Context, string) (deploy.Image, error) { return f.img, nil }

type passTester struct{}

func (passTester) Test(context.Context, deploy.TestTarget) (deploy.TestResult, error) {
	return deploy.TestResult{Passed: 1, OK: true, Summary: "1 passed"}, nil
}

type testRouting struct{}

func (testRouting) PreviewHost(label string) string   { return label + ".example.com" }
func (testRouting) ProductionHost() string            { return "example.com" }
func (testRouting) URL(host string) string            { return "http://" + host }
func (testRouting) Dial(host string) (string, string) { return "http://" + host, "" }
