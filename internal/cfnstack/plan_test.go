package cfnstack

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/slipway/slipway/internal/testenv/awsfault"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./internal/cfnstack -update to write it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (rerun with -update if intended):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func testPlan(t *testing.T, endpoint string) {
	t.Run("a plan for a new stack lists what it would create and leaves nothing behind", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		ctx := context.Background()
		p, err := e.eng.Plan(ctx, e.input("plan-1", "v1"))
		if err != nil {
			t.Fatal(err)
		}
		if !p.Create || len(p.Changes) != 1 || p.Changes[0].Action != "Add" || p.Changes[0].LogicalID != "Param" {
			t.Fatalf("plan %+v: want the stack created with its one parameter resource", p)
		}
		st, err := e.eng.Describe(ctx, "plan-1")
		if err != nil || st.State != StateAbsent {
			t.Errorf("after the plan the stack is %s (%v), want absent: the plan deletes the stack that held its change set", st.State, err)
		}
		if n := e.inj.Count("ExecuteChangeSet"); n != 0 {
			t.Errorf("%d ExecuteChangeSet calls, want none", n)
		}
		if res, err := e.eng.Upsert(ctx, e.input("plan-1", "v1")); err != nil || res.Action != Created {
			t.Errorf("a deploy after the plan: %v %v, want created", res.Action, err)
		}
	})

	t.Run("a plan for a changed stack shows the change and changes nothing", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		ctx := context.Background()
		e.mustCreate(t, "plan-2")
		p, err := e.eng.Plan(ctx, e.input("plan-2", "v2"))
		if err != nil {
			t.Fatal(err)
		}
		if p.Create || len(p.Params) != 1 || p.Params[0] != (ParamChange{Key: "Value", Before: "v1", After: "v2"}) {
			t.Errorf("plan %+v: want the parameter Value v1 -> v2", p)
		}
		st, err := e.eng.Describe(ctx, "plan-2")
		if err != nil || st.Params["Value"] != "v1" || st.State != StateHealthy {
			t.Errorf("after the plan: %v %v %v, want the stack as it was (Value v1, healthy)", st.Params, st.State, err)
		}
		del := e.inj.Sent("DeleteChangeSet")
		if n := e.inj.Count("ExecuteChangeSet"); n != 1 || len(del) != 1 {
			t.Errorf("%d executions (the create only) and %d change sets deleted, want 1 and 1", n, len(del))
		}
		if e.inj.Count("DeleteStack") != 0 {
			t.Error("the plan deleted an existing stack")
		}
	})

	t.Run("a stack busy with another operation is not planned", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		e.mustCreate(t, "plan-3")
		e.inj.On("DescribeStacks", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			return withStatus(res, err, "plan-3", "UPDATE_IN_PROGRESS", "")
		})
		if _, err := e.eng.Plan(context.Background(), e.input("plan-3", "v2")); !errors.Is(err, ErrBusy) {
			t.Fatalf("plan of a busy stack: %v, want ErrBusy", err)
		}
	})

	t.Run("what real AWS reports is printed: replacements, property values and IAM apart", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		e.mustCreate(t, "plan-4")
		// Real AWS fills Changes from the templates and parameters compared
		// (CloudFormation API Reference, DescribeChangeSet, ResourceChange:
		// Replacement True/False/Conditional, Details[].Target with
		// RequiresRecreation, and BeforeValue/AfterValue when the call asks
		// IncludePropertyValues); moto answers Changes: [] for a parameter
		// change. So its answer is replaced by what AWS gives for a new
		// image and a changed execution role.
		e.inj.On("DescribeChangeSet", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			out, ok := res.(*cloudformation.DescribeChangeSetOutput)
			if err != nil || !ok || !aws.ToBool(c.Params.(*cloudformation.DescribeChangeSetInput).IncludePropertyValues) {
				return res, err
			}
			out.Changes = []types.Change{
				{ResourceChange: &types.ResourceChange{Action: types.ChangeActionModify, LogicalResourceId: aws.String("TaskDefinition"),
					ResourceType: aws.String("AWS::ECS::TaskDefinition"), Replacement: types.ReplacementTrue, Details: []types.ResourceChangeDetail{
						{Target: &types.ResourceTargetDefinition{Attribute: types.ResourceAttributeProperties, Name: aws.String("ContainerDefinitions"),
							RequiresRecreation: types.RequiresRecreationAlways, BeforeValue: aws.String("[{\"Image\":\"repo@sha256:aaaa\"}]"), AfterValue: aws.String("[{\"Image\":\"repo@sha256:bbbb\"}]")}},
						{Target: &types.ResourceTargetDefinition{Attribute: types.ResourceAttributeProperties, Name: aws.String("ExecutionRoleArn"),
							RequiresRecreation: types.RequiresRecreationAlways, BeforeValue: aws.String("arn:aws:iam::123456789012:role/a"), AfterValue: aws.String("arn:aws:iam::123456789012:role/b")}},
					}}},
				{ResourceChange: &types.ResourceChange{Action: types.ChangeActionModify, LogicalResourceId: aws.String("Service"),
					ResourceType: aws.String("AWS::ECS::Service"), Replacement: types.ReplacementFalse, Details: []types.ResourceChangeDetail{
						{Target: &types.ResourceTargetDefinition{Attribute: types.ResourceAttributeProperties, Name: aws.String("TaskDefinition"), RequiresRecreation: types.RequiresRecreationNever}}}}},
				{ResourceChange: &types.ResourceChange{Action: types.ChangeActionAdd, LogicalResourceId: aws.String("TaskIngress"), ResourceType: aws.String("AWS::EC2::SecurityGroupIngress")}},
				{ResourceChange: &types.ResourceChange{Action: types.ChangeActionRemove, LogicalResourceId: aws.String("OldRole"), ResourceType: aws.String("AWS::IAM::Role")}},
			}
			return out, nil
		})
		p, err := e.eng.Plan(context.Background(), e.input("plan-4", "v2"))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := p.Write(&out); err != nil {
			t.Fatal(err)
		}
		golden(t, "plan.golden", out.String())
		if !strings.Contains(out.String(), "IAM changes") || !strings.Contains(out.String(), "REPLACED") {
			t.Errorf("the plan hides the replacement or the IAM change:\n%s", out.String())
		}
	})
}

func TestPlanWriteWithoutChanges(t *testing.T) {
	var out bytes.Buffer
	if err := (Plan{Stack: "demo-pr-1"}).Write(&out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "demo-pr-1: no changes\nNothing was changed (-diff).\n" {
		t.Errorf("got %q", got)
	}
}
