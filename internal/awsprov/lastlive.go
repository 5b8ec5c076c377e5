package awsprov

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/naming"
)

// When each stack last had production weight is recorded on the production
// rule itself, one tag per stack (slipway:last-live:<stack> = RFC 3339
// time): SetProduction stamps the stacks that have weight just before it
// moves the forward, so a stack that loses its traffic keeps the time it
// last had it. The rule is the one place traffic is decided, Stacks reads
// every record with the rule's tags, and the records of deleted stacks are
// dropped at the next shift.
const tagLastLive = "slipway:last-live:"

// maxTagKey is ELBv2's limit on a tag key.
const maxTagKey = 128

func liveKey(stack string) string {
	if k := tagLastLive + stack; len(k) <= maxTagKey {
		return k
	}
	return tagLastLive + naming.Hash(stack)
}

// stampLive is the Stamp of SetProduction: the stacks forwarded to with
// weight now were live until now; records of stacks that no longer exist
// are dropped (ELBv2 allows 50 tags on a rule).
func stampLive(stacks []cfnstack.Stack, now time.Time) Stamp {
	byTG := map[string]string{}
	keys := map[string]bool{}
	for _, s := range stacks {
		byTG[s.Outputs[infra.OutputDeployTargetGroupARN]] = s.Name
		keys[liveKey(s.Name)] = true
	}
	return func(current []TargetWeight, tags map[string]string) (map[string]string, []string) {
		add := map[string]string{}
		for _, w := range current {
			if name, ok := byTG[w.TargetGroup]; ok && w.Weight > 0 {
				add[liveKey(name)] = now.UTC().Format(time.RFC3339)
			}
		}
		var drop []string
		for k := range tags {
			if strings.HasPrefix(k, tagLastLive) && !keys[k] {
				drop = append(drop, k)
			}
		}
		return add, drop
	}
}

// lastLive reads the production rule's records; empty when there is no
// shared stack or no production rule yet.
func (p *Provider) lastLive(ctx context.Context) (map[string]time.Time, error) {
	shared, err := p.Shared(ctx)
	if errors.Is(err, errNoShared) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t := p.traffic(shared)
	rules, err := t.rules(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]time.Time{}
	for _, r := range t.mine(rules, kindProduction) {
		for k, v := range r.Tags {
			if at, err := time.Parse(time.RFC3339, v); err == nil && strings.HasPrefix(k, tagLastLive) {
				out[k] = at
			}
		}
	}
	return out, nil
}

// withLastLive fills LastLive of production stacks from the records.
func withLastLive(stacks []deploy.Stack, rec map[string]time.Time) {
	for i := range stacks {
		if stacks[i].Role == deploy.RoleProduction {
			stacks[i].LastLive = rec[liveKey(stacks[i].Name)]
		}
	}
}
