package awsprov

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// FreePriority returns the lowest listener rule priority that is neither
// used on the listener nor in skip (taken by deploys of this process still
// in flight), refusing past AWS's rule limit.
func (t *Traffic) FreePriority(ctx context.Context, stack string, skip map[int]bool) (int, error) {
	rules, err := t.rules(ctx)
	if err != nil {
		return 0, err
	}
	used, n := map[int]bool{}, 0
	for _, r := range rules {
		if !r.Default {
			used[r.Priority], n = true, n+1
		}
	}
	for v := range skip {
		used[v] = true
	}
	if n+len(skip) >= MaxRulesPerLB {
		return 0, fmt.Errorf("allocate a listener rule for %s: the shared ALB has %d listener rules, AWS's limit is %d: destroy stale previews (go run mage.go preview:destroy -pr=N) and retry", stack, n, MaxRulesPerLB)
	}
	prio, ok := freeLowest(used, 1, ProductionPriority-1)
	if !ok {
		return 0, fmt.Errorf("allocate a listener rule for %s: no free priority on listener %s", stack, t.Listener)
	}
	return prio, nil
}

// FreePort returns the lowest port of the preview range that no listener
// of the shared ALB uses and that is not in skip, refusing past the range
// or AWS's listener limit.
func (t *Traffic) FreePort(ctx context.Context, stack string, skip map[int]bool) (int, error) {
	ls, err := t.listeners(ctx)
	if err != nil {
		return 0, err
	}
	used := map[int]bool{}
	for _, l := range ls {
		used[l.Port] = true
	}
	for v := range skip {
		used[v] = true
	}
	if len(ls)+len(skip) >= MaxListenersPerLB {
		return 0, fmt.Errorf("allocate a port for %s: the shared ALB has %d listeners, AWS's limit is %d: destroy stale previews (go run mage.go preview:destroy -pr=N)", stack, len(ls), MaxListenersPerLB)
	}
	port, ok := freeLowest(used, t.Ports.First, t.Ports.Last)
	if !ok {
		return 0, fmt.Errorf("allocate a port for %s: every port of the preview range %d-%d (SLIPWAY_AWS_PREVIEW_PORTS) is in use: destroy stale previews (go run mage.go preview:destroy -pr=N) or widen the range and run shared:deploy", stack, t.Ports.First, t.Ports.Last)
	}
	return port, nil
}

// Sweep deletes the rules and listeners (other than the production rule)
// that forward only to the target group tg. CloudFormation deletes a
// stack's own rule and listener with it; this removes what is left when it
// could not, so a destroyed preview frees its priority and port.
func (t *Traffic) Sweep(ctx context.Context, tg string) error {
	rules, err := t.rules(ctx)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if !r.Default && r.kind() != kindProduction && onlyTo(r.Forward, tg) {
			if err := t.deleteRule(ctx, r.ARN); err != nil {
				return err
			}
		}
	}
	ls, err := t.listeners(ctx)
	if err != nil {
		return err
	}
	for _, l := range ls {
		if l.ARN != t.Listener && onlyTo(l.Forward, tg) {
			if _, err := t.ELB.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: aws.String(l.ARN)}); err != nil && !notFound(err) {
				return fmt.Errorf("delete listener on port %d: %w", l.Port, err)
			}
		}
	}
	return nil
}

func onlyTo(f []TargetWeight, tg string) bool {
	return tg != "" && len(f) == 1 && f[0].TargetGroup == tg
}

// taken says which of the slot's rule priority or listener port ALB
// refused because another deploy took it first (from the API, or as a
// stack's failure reason: "Priority '3' is currently in use", or
// DuplicateListener "A listener already exists on this port for this load
// balancer"), or "" for any other error.
func (sl slot) taken(err error) string {
	if err == nil {
		return ""
	}
	switch s := err.Error(); {
	case strings.Contains(s, "PriorityInUse") || strings.Contains(s, "priority is in use") || strings.Contains(s, "is currently in use"):
		return fmt.Sprintf("rule priority %d", sl.priority)
	case sl.port > 0 && (strings.Contains(s, "DuplicateListener") || strings.Contains(s, "listener already exists on this port")):
		return fmt.Sprintf("listener port %d", sl.port)
	}
	return ""
}
