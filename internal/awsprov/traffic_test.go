package awsprov

import (
	"context"
	"errors"
	"sort"
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

func TestProductionRuleIsCreatedOnceAndShiftedWithOneModifyRule(t *testing.T) {
	f := newALB(t)
	ctx := context.Background()
	blue, green := f.targetGroup(t, "blue"), f.targetGroup(t, "green")
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

func TestTwoPreviewsDeployedAtOnceGetDistinctPriorities(t *testing.T) {
	f := newALB(t)
	ctx := context.Background()
	tr := f.traffic("shop")
	tgs := []string{f.targetGroup(t, "pr-1"), f.targetGroup(t, "pr-2")}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			host := []string{"pr-1.shop.example.com", "pr-2.shop.example.com"}[i]
			errs[i] = tr.SetHost(ctx, host, []string{"shop-pr-1", "shop-pr-2"}[i], tgs[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	hosts, err := tr.Hosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if hosts["pr-1.shop.example.com"] != "shop-pr-1" || hosts["pr-2.shop.example.com"] != "shop-pr-2" {
		t.Fatalf("hosts read back %v", hosts)
	}
	assertDistinctPriorities(t, f, 2)
}

func TestHostRuleRetriesWhenAnotherDeployTakesItsPriority(t *testing.T) {
	f := newALB(t)
	ctx := context.Background()
	c := &countingELB{ELB: f.elb}
	tr := f.traffic("shop")
	tr.ELB = c
	tg1, tg2 := f.targetGroup(t, "pr-1"), f.targetGroup(t, "pr-2")
	other := f.traffic("shop") // a concurrent deploy, straight to moto
	c.beforeCreate = func(in *elbv2.CreateRuleInput) {
		if err := other.SetHost(ctx, "pr-2.shop.example.com", "shop-pr-2", tg2); err != nil {
			t.Errorf("concurrent SetHost: %v", err)
		}
	}
	if err := tr.SetHost(ctx, "pr-1.shop.example.com", "shop-pr-1", tg1); err != nil {
		t.Fatalf("SetHost after PriorityInUse: %v", err)
	}
	if c.creates != 2 {
		t.Errorf("CreateRule calls = %d, want 2 (PriorityInUse, then the next free priority)", c.creates)
	}
	assertDistinctPriorities(t, f, 2)
	// Re-pointing an existing host is one ModifyRule, not a new rule.
	if err := tr.SetHost(ctx, "pr-1.shop.example.com", "shop-pr-1b", tg2); err != nil {
		t.Fatal(err)
	}
	hosts, err := tr.Hosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if hosts["pr-1.shop.example.com"] != "shop-pr-1b" || c.creates != 2 || c.modifies != 1 {
		t.Errorf("after re-point: hosts %v, %d creates, %d modifies", hosts, c.creates, c.modifies)
	}
}

func TestRemoveStackDeletesItsRulesAndLeavesProduction(t *testing.T) {
	f := newALB(t)
	ctx := context.Background()
	tr := f.traffic("shop")
	prod, pr := f.targetGroup(t, "prod"), f.targetGroup(t, "pr-3")
	must(t, tr.SetWeights(ctx, []TargetWeight{{prod, 100}}))
	must(t, tr.SetStackHeader(ctx, "shop-prod-1", prod))
	must(t, tr.SetHost(ctx, "pr-3.shop.example.com", "shop-pr-3", pr))
	must(t, tr.SetStackHeader(ctx, "shop-pr-3", pr))
	must(t, tr.RemoveStack(ctx, "shop-pr-3"))
	rules, err := tr.rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, r := range rules {
		if !r.Default {
			left = append(left, r.kind()+":"+r.stack())
		}
	}
	sort.Strings(left)
	if strings.Join(left, ",") != "header:shop-prod-1,production:" {
		t.Errorf("rules left after removing shop-pr-3: %v, want the production rule and shop-prod-1's header rule", left)
	}
}

func TestPortsAreAllocatedFreedAndRefusedPastTheRange(t *testing.T) {
	f := newALB(t)
	ctx := context.Background()
	tr := f.traffic("shop")
	tr.ProductionHost, tr.Ports = "", PortRange{First: 8001, Last: 8002}
	a, b, c := f.targetGroup(t, "a"), f.targetGroup(t, "b"), f.targetGroup(t, "c")
	must(t, tr.SetHost(ctx, "pr-1", "shop-pr-1", a))
	must(t, tr.SetHost(ctx, "pr-2", "shop-pr-2", b))
	err := tr.SetHost(ctx, "pr-3", "shop-pr-3", c)
	if err == nil || !strings.Contains(err.Error(), "SLIPWAY_AWS_PORTS=8001-8002 is in use") {
		t.Fatalf("third preview on a two-port range: %v, want a refusal naming the range", err)
	}
	ports, err := tr.HostPorts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ports["pr-1"] != 8001 || ports["pr-2"] != 8002 {
		t.Fatalf("ports %v, want pr-1:8001 pr-2:8002", ports)
	}
	must(t, tr.RemoveStack(ctx, "shop-pr-1"))
	must(t, tr.SetHost(ctx, "pr-3", "shop-pr-3", c))
	if ports, _ = tr.HostPorts(ctx); ports["pr-3"] != 8001 || len(ports) != 2 {
		t.Errorf("after freeing 8001: ports %v, want pr-3 on 8001", ports)
	}
	hosts, err := tr.Hosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if hosts["pr-3"] != "shop-pr-3" {
		t.Errorf("hosts %v", hosts)
	}
}

func assertDistinctPriorities(t *testing.T, f albFixture, want int) {
	t.Helper()
	out, err := f.elb.DescribeRules(context.Background(), &elbv2.DescribeRulesInput{ListenerArn: aws.String(f.listener)})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range out.Rules {
		if !aws.ToBool(r.IsDefault) {
			seen[aws.ToString(r.Priority)] = true
		}
	}
	if len(seen) != want || len(out.Rules) != want+1 {
		t.Errorf("rules %d with %d distinct priorities %v, want %d distinct", len(out.Rules)-1, len(seen), seen, want)
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

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
