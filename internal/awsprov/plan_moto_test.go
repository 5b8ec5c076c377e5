package awsprov

import (
	"context"
	"strings"
	"testing"
)

// PlanDeploy plans from the same input Deploy upserts and changes
// nothing: a new preview is not created; a deployed one's new image shows
// as a parameter change and is not applied. (moto stands in for CREATE
// change sets with stacks, createstack_test.go, so a create plan lists no
// resources here.)
func TestPlanDeployCreatesNothingOnMoto(t *testing.T) {
	e := newAWSEnv(t)
	ctx := context.Background()
	p := e.provider("plan", "")
	must(t, p.EnsureShared(ctx))
	spec := previewSpec("plan", 8, "")
	plan, err := p.PlanDeploy(ctx, spec)
	must(t, err)
	var b strings.Builder
	must(t, plan.Write(&b))
	if !plan.Create || !strings.Contains(b.String(), "plan-pr-8: does not exist; a deploy creates it with") {
		t.Errorf("plan of a new preview:\n%s", b.String())
	}
	stacks, err := p.Stacks(ctx)
	must(t, err)
	if len(stacks) != 0 {
		t.Errorf("stacks after a plan: %+v, want none", stacks)
	}

	// Another preview: moto leaves the planned stack's target group
	// behind when it deletes the stack (research/moto.md).
	spec = previewSpec("plan", 9, "")
	_, err = p.Deploy(ctx, spec)
	must(t, err)
	defer func() { must(t, p.Delete(ctx, spec.Stack)) }()
	before := stackParam(t, e, spec.Stack, "Image")
	next := spec
	next.Image = strings.Replace(spec.Image, "@sha256:9999", "@sha256:7777", 1)
	plan, err = p.PlanDeploy(ctx, next)
	must(t, err)
	b.Reset()
	must(t, plan.Write(&b))
	if !strings.Contains(b.String(), "Image: "+before+" -> "+next.Image) || !strings.Contains(b.String(), "Nothing was changed (-diff).") {
		t.Errorf("plan of a new image:\n%s", b.String())
	}
	if got := stackParam(t, e, spec.Stack, "Image"); got != before {
		t.Errorf("Image %s after the plan, want %s unchanged", got, before)
	}
}
