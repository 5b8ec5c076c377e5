package awsprov

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/deploy"
)

// testFlow: the orchestration a user runs (preview deploy and destroy, two releases,
// status) on the aws provider against moto, previews on ALB ports.
func testFlow(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	p := e.provider("flow", "")
	p.o.Shared.PreviewPortFirst, p.o.Shared.PreviewPortLast = 9101, 9110
	must(t, p.EnsureShared(ctx))
	shared, err := p.Shared(ctx)
	must(t, err)
	img := &fixedImage{}
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f := &deploy.Flow{App: "flow", Target: p, Builder: img, Tester: passTester{}, Log: e.log,
		Routing: portRouting{p: p, alb: shared.LoadBalancerDNSName}, Now: func() time.Time { return at }}

	img.img = image(1)
	res, err := f.DeployPreview(ctx, deploy.PreviewRequest{PR: 5})
	must(t, err)
	if want := "http://" + shared.LoadBalancerDNSName + ":9101"; res.URL != want {
		t.Errorf("preview URL %q, want %q (the port given at deploy)", res.URL, want)
	}

	_, err = f.Release(ctx, nil)
	must(t, err)
	first := mustName(t, at, image(1).Commit)
	at = at.Add(time.Hour)
	img.img = image(2)
	modifies := e.inj.count("ModifyRule")
	rel, err := f.Release(ctx, nil)
	must(t, err)
	if n := e.inj.count("ModifyRule") - modifies; n != 1 || len(rel.Previous) != 1 || rel.Previous[0] != first {
		t.Errorf("second release: %d ModifyRule, previous %v; want 1 call and %s kept for rollback", n, rel.Previous, first)
	}
	rows, err := f.Status(ctx)
	must(t, err)
	var b strings.Builder
	must(t, deploy.PrintStatus(&b, rows))
	for _, want := range []string{rel.Stack + "  live", "100%", first + "  previous", "flow-pr-5", "http://" + shared.LoadBalancerDNSName + ":9101"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}

	must(t, f.DestroyPreview(ctx, deploy.PreviewRequest{PR: 5}))
	must(t, f.DestroyPreview(ctx, deploy.PreviewRequest{PR: 5})) // again: nothing to do
	r, err := p.Routes(ctx)
	must(t, err)
	if len(r.Hosts) != 0 || len(r.Production) != 1 || r.Production[0].Stack != rel.Stack || r.Production[0].Weight != 100 {
		t.Errorf("routes after destroy %+v, want no hosts and all production on %s", r, rel.Stack)
	}
}

func image(n int) deploy.Image {
	d := fmt.Sprint(n)
	return deploy.Image{Ref: "123456789012.dkr.ecr.us-east-1.amazonaws.com/flow@sha256:" + strings.Repeat(d, 64),
		Digest: "sha256:" + strings.Repeat(d, 64), Commit: strings.Repeat(d, 40), Version: "v" + d}
}

func mustName(t *testing.T, at time.Time, commit string) string {
	t.Helper()
	return fmt.Sprintf("flow-prod-%s-%s", at.Format("20060102150405"), commit[:7])
}

// portRouting is the aws routing without a domain (as in package
// commands): previews at the ALB's name and the port given at deploy.
type portRouting struct {
	p   *Provider
	alb string
}

func (r portRouting) PreviewHost(label string) string { return label + ".flow" }
func (r portRouting) ProductionHost() string          { return r.alb }
func (r portRouting) Dial(host string) (string, string) {
	return r.URL(host), ""
}
func (r portRouting) URL(host string) string {
	if port, ok := r.p.Port(host); ok {
		return fmt.Sprintf("http://%s:%d", r.alb, port)
	}
	return "http://" + r.alb
}
