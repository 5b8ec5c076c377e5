package awsprov

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// countingELB counts the mutating calls that reach moto, and can run a
// hook before a CreateRule (another deploy acting between our read and
// our write).
type countingELB struct {
	ELB
	mu                sync.Mutex
	creates, modifies int
	beforeCreate      func(in *elbv2.CreateRuleInput)
}

func (c *countingELB) CreateRule(ctx context.Context, in *elbv2.CreateRuleInput, o ...func(*elbv2.Options)) (*elbv2.CreateRuleOutput, error) {
	c.mu.Lock()
	c.creates++
	hook := c.beforeCreate
	c.beforeCreate = nil
	c.mu.Unlock()
	if hook != nil {
		hook(in)
	}
	return c.ELB.CreateRule(ctx, in, o...)
}

func (c *countingELB) ModifyRule(ctx context.Context, in *elbv2.ModifyRuleInput, o ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error) {
	c.mu.Lock()
	c.modifies++
	c.mu.Unlock()
	return c.ELB.ModifyRule(ctx, in, o...)
}

func testProductionRule(t *testing.T, e *awsEnv) {
	f := newALB(t, e.endpoint(), "alb-production")
	ctx := context.Background()
	blue, green := f.targetGroup(t, "fx-blue"), f.targetGroup(t, "fx-green")
	c := &countingELB{ELB: f.elb}
	tr := f.traffic("shop")
	tr.ELB, tr.Sticky = c, 300e9

	if err := tr.SetWeights(ctx, []TargetWeight{{blue, 100}}); err != nil {
		t.Fatal(err)
	}
	if c.creates != 1 || c.modifies != 0 {
		t.Fatalf("first release: %d CreateRule, %d ModifyRule; want 1, 0", c.creates, c.modifies)
	}
	for _, split := range [][]TargetWeight{{{blue, 90}, {green, 10}}, {{blue, 0}, {green, 100}}, {{blue, 100}, {green, 0}}} {
		before := c.modifies
		if err := tr.SetWeights(ctx, split); err != nil {
			t.Fatal(err)
		}
		if c.modifies-before != 1 || c.creates != 1 {
			t.Errorf("shift to %v: %d ModifyRule, %d CreateRule in all; want exactly one ModifyRule", split, c.modifies-before, c.creates)
		}
		got, err := tr.Weights(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !sameWeights(got, split) {
			t.Errorf("weights read back %v, want %v", got, split)
		}
	}
	rules, err := f.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: aws.String(f.listener)})
	if err != nil {
		t.Fatal(err)
	}
	var prod *elbtypes.Rule
	for i, r := range rules.Rules {
		if aws.ToString(r.Priority) == "50000" {
			prod = &rules.Rules[i]
		}
	}
	if prod == nil {
		t.Fatalf("no rule at the lowest priority 50000: %+v", rules.Rules)
	}
	st := prod.Actions[0].ForwardConfig.TargetGroupStickinessConfig
	if st == nil || !aws.ToBool(st.Enabled) || aws.ToInt32(st.DurationSeconds) != 300 {
		t.Errorf("production forward stickiness = %+v, want enabled for 300 s", st)
	}
	if h := prod.Conditions[0].HostHeaderConfig; h == nil || h.Values[0] != "shop.example.com" {
		t.Errorf("production rule condition = %+v, want host shop.example.com", prod.Conditions)
	}
}

func TestProductionSplitOverSixTargetGroupsIsRefusedBeforeAnyCall(t *testing.T) {
	c := &countingELB{} // no ELB behind it: a call would panic
	tr := &Traffic{ELB: c, App: "shop", Listener: "arn:listener"}
	var ws []TargetWeight
	for i := range 6 {
		ws = append(ws, TargetWeight{TargetGroup: tgName(i), Weight: 1})
	}
	err := tr.SetWeights(context.Background(), ws)
	if !errors.Is(err, ErrTooManyGroups) || !strings.Contains(err.Error(), "at most 5 target groups") {
		t.Fatalf("SetWeights over 6 groups: %v, want ErrTooManyGroups naming the limit", err)
	}
	for _, bad := range [][]TargetWeight{nil, {{"a", 0}}, {{"a", 1}, {"a", 1}}, {{"a", 1000}}} {
		if err := tr.SetWeights(context.Background(), bad); err == nil {
			t.Errorf("SetWeights(%v) succeeded, want a refusal", bad)
		}
	}
}

func testFreeSlots(t *testing.T, e *awsEnv) {
	f := newALB(t, e.endpoint(), "alb-slots")
	ctx := context.Background()
	tr := f.traffic("shop")
	tr.Ports = PortRange{First: 8001, Last: 8002}
	tg := f.targetGroup(t, "fx-slots")
	must(t, tr.SetWeights(ctx, []TargetWeight{{tg, 1}}))
	_, err := f.elb.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(f.listener), Priority: aws.Int32(1),
		Conditions: []elbtypes.RuleCondition{hostCondition("pr-1.example.com")}, Actions: forward([]TargetWeight{{tg, 1}}, 0)})
	must(t, err)
	prio, err := tr.FreePriority(ctx, "shop-pr-2", map[int]bool{2: true})
	if err != nil || prio != 3 {
		t.Errorf("FreePriority with 1 used and 2 reserved = %d, %v; want 3", prio, err)
	}
	port, err := tr.FreePort(ctx, "shop-pr-2", nil)
	if err != nil || port != 8001 {
		t.Fatalf("FreePort = %d, %v; want 8001", port, err)
	}
	_, err = f.elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(f.lb), Port: aws.Int32(8001),
		Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: forward([]TargetWeight{{tg, 1}}, 0)})
	must(t, err)
	_, err = tr.FreePort(ctx, "shop-pr-3", map[int]bool{8002: true})
	if err == nil || !strings.Contains(err.Error(), "every port of the preview range 8001-8002") {
		t.Fatalf("FreePort with the range full: %v, want a refusal naming the range", err)
	}
	// Sweep frees what forwards only to tg, and leaves the production rule.
	must(t, tr.Sweep(ctx, tg))
	if port, err := tr.FreePort(ctx, "shop-pr-3", nil); err != nil || port != 8001 {
		t.Errorf("after Sweep: FreePort = %d, %v; want 8001 again", port, err)
	}
	rules, err := tr.rules(ctx)
	must(t, err)
	if len(rules) != 2 || rules[0].kind() != kindProduction && rules[1].kind() != kindProduction {
		t.Errorf("after Sweep: %d rules, want the default and the production rule", len(rules))
	}
}

func sameWeights(a, b []TargetWeight) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
