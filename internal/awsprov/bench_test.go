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
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/deploy"
)

// BenchmarkPreviewDeploy is the tool's own time for a preview deploy on
// the aws target against moto, excluding the image build and push (the
// image reference is given) and the integration tests: what
// preview:deploy does on AWS between them (reading the shared
// stack, the deploy stack's create through a change set, the ECS and
// target health checks, reading the routes back). moto answers at once,
// so the figure is the tool's calls and waits. Poll intervals: 100 ms (the
// SDK waiter's minimum is a fifth of it), and the 5 s default.
func BenchmarkPreviewDeploy(b *testing.B) {
	e := newAWSEnv(b)
	ctx := context.Background()
	run := 0
	for _, poll := range []time.Duration{100 * time.Millisecond, 0} {
		name := "poll=" + poll.String()
		if poll == 0 {
			name = "poll=default"
		}
		b.Run(name, func(b *testing.B) {
			run++
			app := fmt.Sprintf("bench%d", run) // a fresh app per run: every deploy creates a stack
			p := e.provider(app, app+".example.com")
			o := p.o
			o.Poll, o.HealthTimeout, o.Stack = poll, 0, cfnstack.Options{Poll: poll} // zero: the defaults
			clients := Clients{CFN: p.cfn, ELB: p.elb, ECS: p.ecs}
			must(b, New(clients, o).EnsureShared(ctx))
			b.ResetTimer()
			for i := range b.N {
				spec := previewSpec(app, i+1, app+".example.com")
				p := New(clients, o) // a fresh process: reads the shared stack again
				must(b, p.EnsureShared(ctx))
				_, err := p.Deploy(ctx, spec)
				must(b, err)
				r, err := p.Routes(ctx)
				must(b, err)
				must(b, p.SetHost(ctx, spec.Host, r.Hosts[spec.Host]))
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/deploy")
		})
	}
}

// BenchmarkCleanupPlan500 is cleanup's plan (dry run, as `cleanup
// -dryRun` computes it: the lease taken and given up, every stack read
// with its tags through DescribeStacks, which moto pages at 50 as AWS
// does, the production rule and its last-live records, the plan) over 500
// deploy stacks of one app against moto: one release live, 99 older
// releases (40 with last-live records), 400 previews. It fails unless the
// plan covers all 500 stacks, so a page dropped shows. Target: ≤ 5 s.
func BenchmarkCleanupPlan500(b *testing.B) {
	e := newAWSEnv(b)
	ctx := context.Background()
	l := &lifeEnv{e: e, img: &fixedImage{}, tester: &switchTester{}, at: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	l.p = e.provider("many", "many.example.com")
	must(b, l.p.EnsureShared(ctx))
	_, err := l.p.Deploy(ctx, releaseSpec("many", "live", 1))
	must(b, err)
	must(b, l.p.SetProduction(ctx, []deploy.Weight{{Stack: "many-prod-live", Weight: 100}}))
	shared, err := l.p.Shared(ctx)
	must(b, err)
	start := time.Now()
	fillStacks(b, e, shared, 499)
	b.Logf("made 499 more stacks in moto in %s", time.Since(start).Round(time.Millisecond))
	f := &deploy.Flow{App: "many", Target: l.p, Owner: "bench", Now: func() time.Time { return time.Now().Add(24 * time.Hour) }}
	pol := deploy.CleanupPolicy{KeepReleases: 2, Retention: 14 * 24 * time.Hour, Warm: time.Hour, PreviewTTL: 7 * 24 * time.Hour, Parallel: 4}
	b.Run("plan", func(b *testing.B) {
		pages := e.inj.count("DescribeStacks")
		for range b.N {
			plan, err := f.Cleanup(ctx, pol, openPRs{7: true, 8: true}, true)
			must(b, err)
			if len(plan) != 500 {
				b.Fatalf("plan covers %d stacks, want 500", len(plan))
			}
		}
		perPlan := float64(e.inj.count("DescribeStacks")-pages) / float64(b.N)
		if perPlan < 20 { // Stacks and Routes each list 500 stacks, 50 a page
			b.Fatalf("%.0f DescribeStacks calls per plan, want at least 20: the listing did not page", perPlan)
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/plan")
		b.ReportMetric(perPlan, "DescribeStacks/plan")
	})
}

// fillStacks creates n small stacks with deploy-stack tags straight in
// moto (a wait-condition handle each: the plan reads tags, not resources),
// 8 at a time; a fifth of them releases, the rest previews. 40 releases
// get last-live records on the production rule.
func fillStacks(b *testing.B, e *awsEnv, shared infra.SharedOutputs, n int) {
	cf := cloudformation.NewFromConfig(motoConfig(e.endpoint()))
	ctx := context.Background()
	body := "Resources:\n  Handle:\n    Type: AWS::CloudFormation::WaitConditionHandle\n"
	created := time.Now().Add(-30 * 24 * time.Hour)
	var mu sync.Mutex
	var live []elbtypes.Tag
	sem, errs := make(chan struct{}, 8), make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		tags := map[string]string{TagApp: "many", TagCreated: created.Add(time.Duration(i) * time.Hour).UTC().Format(time.RFC3339), TagCommit: strings.Repeat("a", 40)}
		name := fmt.Sprintf("many-pr-%d", i+2)
		if i%5 == 0 {
			name, tags[TagRole] = fmt.Sprintf("many-prod-%03d", i), deploy.RoleProduction
			if i < 200 {
				mu.Lock()
				live = append(live, elbtypes.Tag{Key: aws.String(liveKey(name)), Value: aws.String(created.Add(time.Duration(i+1) * time.Hour).UTC().Format(time.RFC3339))})
				mu.Unlock()
			}
		} else {
			tags[TagRole], tags[TagPR], tags[TagHost] = deploy.RolePreview, fmt.Sprint(i+2), fmt.Sprintf("pr-%d.many.example.com", i+2)
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var ts []cfntypes.Tag
			for k, v := range tags {
				ts = append(ts, cfntypes.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			_, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(body), Tags: ts})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(b, err)
	}
	rules, err := e.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: aws.String(shared.ListenerARN)})
	must(b, err)
	for _, r := range rules.Rules {
		if aws.ToString(r.Priority) == fmt.Sprint(ProductionPriority) {
			_, err := e.elb.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{aws.ToString(r.RuleArn)}, Tags: live})
			must(b, err)
		}
	}
}
