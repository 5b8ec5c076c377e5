package awsprov

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// SetHost routes host to the target group tg of stack: a tagged listener
// rule at a free priority (host mode) or a tagged listener on a free port
// (port mode). An existing route of host is re-pointed in one call.
func (t *Traffic) SetHost(ctx context.Context, host, stack, tg string) error {
	if t.Ports.Enabled() {
		_, err := t.openPort(ctx, host, stack, tg)
		return err
	}
	cond := []elbtypes.RuleCondition{hostCondition(host)}
	return t.upsertRule(ctx, kindHost, host, stack, tg, cond)
}

// RemoveHost deletes host's rule or listener. An absent host is not an error.
func (t *Traffic) RemoveHost(ctx context.Context, host string) error {
	if t.Ports.Enabled() {
		ls, err := t.listeners(ctx)
		if err != nil {
			return err
		}
		for _, l := range t.mine(ls, kindPort) {
			if l.Tags[TagHost] == host {
				if _, err := t.ELB.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: aws.String(l.ARN)}); err != nil && !notFound(err) {
					return fmt.Errorf("delete listener on port %d for %s: %w", l.Port, host, err)
				}
			}
		}
		return nil
	}
	rules, err := t.rules(ctx)
	if err != nil {
		return err
	}
	for _, r := range t.mine(rules, kindHost) {
		if r.Tags[TagHost] == host {
			if err := t.deleteRule(ctx, r.ARN); err != nil {
				return err
			}
		}
	}
	return nil
}

// SetStackHeader makes requests carrying X-Slipway-Stack: stack (on the
// production host) reach tg, so a release is tested before it has traffic.
func (t *Traffic) SetStackHeader(ctx context.Context, stack, tg string) error {
	cond := []elbtypes.RuleCondition{{Field: aws.String("http-header"), HttpHeaderConfig: &elbtypes.HttpHeaderConditionConfig{
		HttpHeaderName: aws.String(StackHeader), Values: []string{stack}}}}
	if t.ProductionHost != "" {
		cond = append(cond, hostCondition(t.ProductionHost))
	}
	return t.upsertRule(ctx, kindHeader, "", stack, tg, cond)
}

// upsertRule keeps one rule of kind for key (the host, or the stack for
// header rules): re-pointed when it exists, else created at the lowest free
// priority, retried when another deploy took that priority first.
func (t *Traffic) upsertRule(ctx context.Context, kind, host, stack, tg string, cond []elbtypes.RuleCondition) error {
	what := fmt.Sprintf("%s rule for %s", kind, stack)
	for attempt := 1; ; attempt++ {
		rules, err := t.rules(ctx)
		if err != nil {
			return err
		}
		for _, r := range t.mine(rules, kind) {
			if (kind == kindHost && r.Tags[TagHost] == host) || (kind == kindHeader && r.stack() == stack) {
				return t.repoint(ctx, r, stack, tg)
			}
		}
		used, n := map[int]bool{}, 0
		for _, r := range rules {
			if !r.Default {
				used[r.Priority], n = true, n+1
			}
		}
		if n >= MaxRulesPerLB {
			return fmt.Errorf("create %s: the shared ALB already has %d listener rules, AWS's limit: destroy stale previews (go run mage.go preview:destroy -pr=N) and retry", what, n)
		}
		prio, ok := freeLowest(used, 1, ProductionPriority-1)
		if !ok {
			return fmt.Errorf("create %s: no free rule priority on listener %s", what, t.Listener)
		}
		_, err = t.ELB.CreateRule(ctx, &elbv2.CreateRuleInput{
			ListenerArn: aws.String(t.Listener), Priority: aws.Int32(int32(prio)),
			Conditions: cond, Actions: forward([]TargetWeight{{TargetGroup: tg, Weight: 1}}, 0),
			Tags: t.tags(kind, stack, host),
		})
		var inUse *elbtypes.PriorityInUseException
		if errors.As(err, &inUse) && attempt < allocAttempts {
			continue // another deploy took it between our read and our create
		}
		if err != nil {
			return fmt.Errorf("create %s at priority %d: %w", what, prio, err)
		}
		return nil
	}
}

func (t *Traffic) repoint(ctx context.Context, r owned, stack, tg string) error {
	if len(r.Forward) == 1 && r.Forward[0].TargetGroup == tg && r.stack() == stack {
		return nil
	}
	if _, err := t.ELB.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(r.ARN), Actions: forward([]TargetWeight{{TargetGroup: tg, Weight: 1}}, 0)}); err != nil {
		return fmt.Errorf("re-point rule %s to %s: %w", r.ARN, stack, err)
	}
	return t.retag(ctx, r.ARN, stack)
}

func (t *Traffic) retag(ctx context.Context, arn, stack string) error {
	_, err := t.ELB.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{arn}, Tags: []elbtypes.Tag{{Key: aws.String(TagStack), Value: aws.String(stack)}}})
	if err != nil {
		return fmt.Errorf("tag %s with stack %s: %w", arn, stack, err)
	}
	return nil
}

// openPort gives host a listener on a free port of the range forwarding to
// tg, and returns the port.
func (t *Traffic) openPort(ctx context.Context, host, stack, tg string) (int, error) {
	for attempt := 1; ; attempt++ {
		ls, err := t.listeners(ctx)
		if err != nil {
			return 0, err
		}
		used := map[int]bool{}
		for _, l := range ls {
			used[l.Port] = true
		}
		for _, l := range t.mine(ls, kindPort) {
			if l.Tags[TagHost] == host {
				return l.Port, t.repointListener(ctx, l, stack, tg)
			}
		}
		if len(ls) >= MaxListenersPerLB {
			return 0, fmt.Errorf("open a port for %s: the shared ALB already has %d listeners, AWS's limit: destroy stale previews (go run mage.go preview:destroy -pr=N)", stack, len(ls))
		}
		port, ok := freeLowest(used, t.Ports.First, t.Ports.Last)
		if !ok {
			return 0, fmt.Errorf("open a port for %s: every port of SLIPWAY_AWS_PORTS=%d-%d is in use: destroy stale previews (go run mage.go preview:destroy -pr=N) or widen the range (and redeploy the shared stack)", stack, t.Ports.First, t.Ports.Last)
		}
		_, err = t.ELB.CreateListener(ctx, &elbv2.CreateListenerInput{
			LoadBalancerArn: aws.String(t.LoadBalancer), Port: aws.Int32(int32(port)), Protocol: elbtypes.ProtocolEnumHttp,
			DefaultActions: forward([]TargetWeight{{TargetGroup: tg, Weight: 1}}, 0), Tags: t.tags(kindPort, stack, host),
		})
		var dup *elbtypes.DuplicateListenerException
		if errors.As(err, &dup) && attempt < allocAttempts {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("open port %d for %s: %w", port, stack, err)
		}
		return port, nil
	}
}

func (t *Traffic) repointListener(ctx context.Context, l owned, stack, tg string) error {
	if len(l.Forward) == 1 && l.Forward[0].TargetGroup == tg && l.stack() == stack {
		return nil
	}
	_, err := t.ELB.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(l.ARN), DefaultActions: forward([]TargetWeight{{TargetGroup: tg, Weight: 1}}, 0)})
	if err != nil {
		return fmt.Errorf("re-point port %d to %s: %w", l.Port, stack, err)
	}
	return t.retag(ctx, l.ARN, stack)
}
