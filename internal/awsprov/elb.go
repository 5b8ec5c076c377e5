package awsprov

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// ELB is the part of the ELBv2 API Slipway calls.
type ELB interface {
	DescribeRules(ctx context.Context, in *elbv2.DescribeRulesInput, opts ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error)
	CreateRule(ctx context.Context, in *elbv2.CreateRuleInput, opts ...func(*elbv2.Options)) (*elbv2.CreateRuleOutput, error)
	ModifyRule(ctx context.Context, in *elbv2.ModifyRuleInput, opts ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error)
	DeleteRule(ctx context.Context, in *elbv2.DeleteRuleInput, opts ...func(*elbv2.Options)) (*elbv2.DeleteRuleOutput, error)
	DescribeTags(ctx context.Context, in *elbv2.DescribeTagsInput, opts ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error)
	DescribeListeners(ctx context.Context, in *elbv2.DescribeListenersInput, opts ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
	DeleteListener(ctx context.Context, in *elbv2.DeleteListenerInput, opts ...func(*elbv2.Options)) (*elbv2.DeleteListenerOutput, error)
	AddTags(ctx context.Context, in *elbv2.AddTagsInput, opts ...func(*elbv2.Options)) (*elbv2.AddTagsOutput, error)
	RemoveTags(ctx context.Context, in *elbv2.RemoveTagsInput, opts ...func(*elbv2.Options)) (*elbv2.RemoveTagsOutput, error)
	DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, opts ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
}

var _ ELB = (*elbv2.Client)(nil)

// Tags Slipway puts on the listener rules and listeners it owns: they are
// the state Routes reads back.
const (
	TagApp  = "slipway:app"
	TagKind = "slipway:kind" // production
	TagHost = "slipway:host" // also on preview stacks: the host they answer on
)

// kindProduction marks the production rule.
const kindProduction = "production"

// owned is a rule or listener with its tags.
type owned struct {
	ARN      string
	Priority int // rules; 0 for the default rule
	Port     int // listeners
	Tags     map[string]string
	Forward  []TargetWeight // what it forwards to
	Default  bool
}

// TargetWeight is one target group's share of a forward action.
type TargetWeight struct {
	TargetGroup string // ARN
	Weight      int
}

func (o owned) kind() string { return o.Tags[TagKind] }

// rules lists every rule of the listener with its tags.
func (t *Traffic) rules(ctx context.Context) ([]owned, error) {
	var out []owned
	in := &elbv2.DescribeRulesInput{ListenerArn: aws.String(t.Listener), PageSize: aws.Int32(100)}
	for {
		page, err := t.ELB.DescribeRules(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("describe rules of listener %s: %w", t.Listener, err)
		}
		for _, r := range page.Rules {
			o := owned{ARN: aws.ToString(r.RuleArn), Default: aws.ToBool(r.IsDefault), Forward: forwardOf(r.Actions)}
			if !o.Default {
				if o.Priority, err = strconv.Atoi(aws.ToString(r.Priority)); err != nil {
					return nil, fmt.Errorf("read priority of rule %s: %w", o.ARN, err)
				}
			}
			out = append(out, o)
		}
		if page.NextMarker == nil || len(page.Rules) == 0 {
			break
		}
		in.Marker = page.NextMarker
	}
	return out, t.tag(ctx, out)
}

// listeners lists every listener of the load balancer with its tags.
func (t *Traffic) listeners(ctx context.Context) ([]owned, error) {
	var out []owned
	in := &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(t.LoadBalancer), PageSize: aws.Int32(100)}
	for {
		page, err := t.ELB.DescribeListeners(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("describe listeners of %s: %w", t.LoadBalancer, err)
		}
		for _, l := range page.Listeners {
			out = append(out, owned{ARN: aws.ToString(l.ListenerArn), Port: int(aws.ToInt32(l.Port)), Forward: forwardOf(l.DefaultActions)})
		}
		if page.NextMarker == nil || len(page.Listeners) == 0 {
			break
		}
		in.Marker = page.NextMarker
	}
	return out, t.tag(ctx, out)
}

// tag fills in the tags of os, 20 resources per call (the API's limit).
func (t *Traffic) tag(ctx context.Context, os []owned) error {
	idx := map[string]int{}
	var arns []string
	for i, o := range os {
		if !o.Default {
			idx[o.ARN] = i
			arns = append(arns, o.ARN)
		}
		os[i].Tags = map[string]string{}
	}
	for len(arns) > 0 {
		n := min(20, len(arns))
		out, err := t.ELB.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: arns[:n]})
		if err != nil {
			return fmt.Errorf("describe tags of listener rules: %w", err)
		}
		for _, d := range out.TagDescriptions {
			i, ok := idx[aws.ToString(d.ResourceArn)]
			if !ok {
				continue
			}
			for _, tg := range d.Tags {
				os[i].Tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
		}
		arns = arns[n:]
	}
	return nil
}

// mine keeps what this app owns of kind.
func (t *Traffic) mine(os []owned, kind string) []owned {
	var out []owned
	for _, o := range os {
		if o.Tags[TagApp] == t.App && o.kind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func forwardOf(actions []elbtypes.Action) []TargetWeight {
	for _, a := range actions {
		if a.Type != elbtypes.ActionTypeEnumForward {
			continue
		}
		if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
			out := make([]TargetWeight, 0, len(a.ForwardConfig.TargetGroups))
			for _, tg := range a.ForwardConfig.TargetGroups {
				out = append(out, TargetWeight{TargetGroup: aws.ToString(tg.TargetGroupArn), Weight: int(aws.ToInt32(tg.Weight))})
			}
			return out
		}
		if a.TargetGroupArn != nil {
			return []TargetWeight{{TargetGroup: aws.ToString(a.TargetGroupArn), Weight: 1}}
		}
	}
	return nil
}

// forward is a forward action to tgs with stickiness, so a visitor stays
// on one stack during a canary.
func forward(tgs []TargetWeight, sticky int32) []elbtypes.Action {
	groups := make([]elbtypes.TargetGroupTuple, 0, len(tgs))
	for _, tg := range tgs {
		groups = append(groups, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(tg.TargetGroup), Weight: aws.Int32(int32(tg.Weight))})
	}
	cfg := &elbtypes.ForwardActionConfig{TargetGroups: groups}
	if sticky > 0 {
		cfg.TargetGroupStickinessConfig = &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(sticky)}
	}
	return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: cfg}}
}

func (t *Traffic) tags(kind, host string) []elbtypes.Tag {
	tags := []elbtypes.Tag{{Key: aws.String(TagApp), Value: aws.String(t.App)}, {Key: aws.String(TagKind), Value: aws.String(kind)}}
	if host != "" {
		tags = append(tags, elbtypes.Tag{Key: aws.String(TagHost), Value: aws.String(host)})
	}
	return tags
}

// freeLowest returns the lowest value in [lo, hi] not in used, or false.
func freeLowest(used map[int]bool, lo, hi int) (int, bool) {
	for v := lo; v <= hi; v++ {
		if !used[v] {
			return v, true
		}
	}
	return 0, false
}
