package awsprov

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// AWS limits the traffic code enforces itself (ELBv2 quotas).
const (
	MaxWeightedGroups  = 5     // target groups in one weighted forward action
	MaxRulesPerLB      = 100   // listener rules per load balancer, default rules excluded
	MaxListenersPerLB  = 50    // listeners per load balancer
	ProductionPriority = 50000 // the lowest priority a rule can have
	maxWeight          = 999
	allocAttempts      = 5
)

// Traffic owns the shared ALB's production rule through the ELBv2 API
// (created once, tagged, lowest priority, one weighted forward with
// stickiness): it is in no CloudFormation template, so a shared-stack update
// never resets what a release set. It also allocates the free rule
// priorities and preview ports deploy stacks take, and sweeps what a
// deleted stack left behind.
type Traffic struct {
	ELB            ELB
	App            string
	LoadBalancer   string // ARN of the shared ALB
	Listener       string // ARN of the listener carrying production and host rules
	ProductionHost string // host the production rule matches; "" matches every path
	Ports          PortRange
	Sticky         time.Duration // stickiness of the production forward; 0: off
}

// PortRange is the listener ports previews get when there is no domain.
// The zero value means host mode.
type PortRange struct{ First, Last int }

// Enabled reports whether previews get ports rather than host names.
func (r PortRange) Enabled() bool { return r.First > 0 }

// ErrTooManyGroups is returned for a production split over more target
// groups than one ALB forward action takes.
var ErrTooManyGroups = fmt.Errorf("ALB forwards to at most %d target groups in one rule", MaxWeightedGroups)

// Weights reads the production rule's forward back; nil when there is no
// production rule yet.
func (t *Traffic) Weights(ctx context.Context) ([]TargetWeight, error) {
	rules, err := t.rules(ctx)
	if err != nil {
		return nil, err
	}
	prod := t.mine(rules, kindProduction)
	if len(prod) == 0 {
		return nil, nil
	}
	return prod[0].Forward, nil
}

// SetWeights makes the production rule forward to ws: one ModifyRule when
// the rule exists, one CreateRule the first time.
func (t *Traffic) SetWeights(ctx context.Context, ws []TargetWeight) error {
	_, err := t.SetWeightsStamped(ctx, ws, nil)
	return err
}

// Stamp says which tags the production rule gets (add) and loses (drop)
// just before its forward changes, given what it forwards to now and its
// tags.
type Stamp func(current []TargetWeight, tags map[string]string) (add map[string]string, drop []string)

// SetWeightsStamped is SetWeights that first records stamp's tags on the
// production rule (AddTags: the forward cannot carry tags, so that is the
// one other call). A failed record does not stop the shift: it is returned
// as warn.
func (t *Traffic) SetWeightsStamped(ctx context.Context, ws []TargetWeight, stamp Stamp) (warn, err error) {
	if err := checkWeights(ws); err != nil {
		return nil, err
	}
	rules, err := t.rules(ctx)
	if err != nil {
		return nil, err
	}
	actions := forward(ws, int32(t.Sticky/time.Second))
	if prod := t.mine(rules, kindProduction); len(prod) > 0 {
		if stamp != nil {
			add, drop := stamp(prod[0].Forward, prod[0].Tags)
			warn = t.retag(ctx, prod[0].ARN, add, drop)
		}
		_, err := t.ELB.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(prod[0].ARN), Actions: actions})
		if err != nil {
			return warn, fmt.Errorf("modify production rule %s: %w", prod[0].ARN, err)
		}
		return warn, nil
	}
	for _, r := range rules {
		if r.Priority == ProductionPriority {
			return nil, fmt.Errorf("create production rule: priority %d on listener %s is taken by rule %s, which Slipway does not own: delete or move that rule", ProductionPriority, t.Listener, r.ARN)
		}
	}
	cond := []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/*"}}}}
	if t.ProductionHost != "" {
		cond = []elbtypes.RuleCondition{hostCondition(t.ProductionHost)}
	}
	_, err = t.ELB.CreateRule(ctx, &elbv2.CreateRuleInput{
		ListenerArn: aws.String(t.Listener), Priority: aws.Int32(ProductionPriority),
		Conditions: cond, Actions: actions, Tags: t.tags(kindProduction, t.ProductionHost),
	})
	if err != nil {
		return nil, fmt.Errorf("create production rule on listener %s: %w", t.Listener, err)
	}
	return nil, nil
}

// DeleteProduction deletes the production rule, if there is one: every
// production request then gets the listener's default answer. It says
// whether there was one.
func (t *Traffic) DeleteProduction(ctx context.Context) (bool, error) {
	rules, err := t.rules(ctx)
	if err != nil {
		return false, err
	}
	prod := t.mine(rules, kindProduction)
	for _, r := range prod {
		if err := t.deleteRule(ctx, r.ARN); err != nil {
			return false, fmt.Errorf("delete production rule: %w", err)
		}
	}
	return len(prod) > 0, nil
}

// retag adds and removes tags of a rule.
func (t *Traffic) retag(ctx context.Context, arn string, add map[string]string, drop []string) error {
	if len(drop) > 0 {
		if _, err := t.ELB.RemoveTags(ctx, &elbv2.RemoveTagsInput{ResourceArns: []string{arn}, TagKeys: drop}); err != nil {
			return fmt.Errorf("remove tags %v of production rule: %w", drop, err)
		}
	}
	if len(add) == 0 {
		return nil
	}
	tags := make([]elbtypes.Tag, 0, len(add))
	for k, v := range add {
		tags = append(tags, elbtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if _, err := t.ELB.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{arn}, Tags: tags}); err != nil {
		return fmt.Errorf("tag production rule: %w", err)
	}
	return nil
}

func checkWeights(ws []TargetWeight) error {
	if len(ws) == 0 {
		return errors.New("set production weights: no target group named")
	}
	if len(ws) > MaxWeightedGroups {
		return fmt.Errorf("set production weights over %d stacks: %w: shift traffic off some stacks first", len(ws), ErrTooManyGroups)
	}
	seen, total := map[string]bool{}, 0
	for _, w := range ws {
		if w.Weight < 0 || w.Weight > maxWeight {
			return fmt.Errorf("set production weights: weight %d of %s is outside 0..%d", w.Weight, w.TargetGroup, maxWeight)
		}
		if seen[w.TargetGroup] {
			return fmt.Errorf("set production weights: target group %s named twice", w.TargetGroup)
		}
		seen[w.TargetGroup] = true
		total += w.Weight
	}
	if total == 0 {
		return errors.New("set production weights: every weight is 0: at least one stack must take traffic")
	}
	return nil
}

func hostCondition(host string) elbtypes.RuleCondition {
	return elbtypes.RuleCondition{Field: aws.String("host-header"), HostHeaderConfig: &elbtypes.HostHeaderConditionConfig{Values: []string{host}}}
}

func (t *Traffic) deleteRule(ctx context.Context, arn string) error {
	if _, err := t.ELB.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: aws.String(arn)}); err != nil && !notFound(err) {
		return fmt.Errorf("delete listener rule %s: %w", arn, err)
	}
	return nil
}

func notFound(err error) bool {
	var r *elbtypes.RuleNotFoundException
	var l *elbtypes.ListenerNotFoundException
	return errors.As(err, &r) || errors.As(err, &l)
}
