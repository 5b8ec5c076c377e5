package cfnstack

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"

	"github.com/slipway/slipway/internal/testenv/awsfault"
)

func testUpsert(t *testing.T, endpoint string) {

	t.Run("an absent stack is created through a change set, with tags, outputs and tokens", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		// moto 5.2.5 never fills Outputs for a stack created by a CREATE
		// change set (its output map is built before the resources exist);
		// real AWS returns them once the stack is CREATE_COMPLETE. Add the
		// one output the template declares, as AWS would.
		e.inj.On("DescribeStacks", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			if out, ok := res.(*cloudformation.DescribeStacksOutput); ok && err == nil && len(out.Stacks) == 1 && out.Stacks[0].StackStatus == "CREATE_COMPLETE" {
				out.Stacks[0].Outputs = []types.Output{{OutputKey: aws.String("ParamName"), OutputValue: aws.String("/slipway-test/create-1")}}
			}
			return res, err
		})
		res, err := e.eng.Upsert(context.Background(), e.input("create-1", "v1"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Action != Created || res.Stack.State != StateHealthy || res.Stack.Status != "CREATE_COMPLETE" {
			t.Fatalf("got %s %s %s, want created, healthy, CREATE_COMPLETE", res.Action, res.Stack.State, res.Stack.Status)
		}
		if got := res.Stack.Outputs["ParamName"]; got != "/slipway-test/create-1" {
			t.Errorf("output ParamName = %q, want the parameter's name", got)
		}
		if res.Stack.Tags["slipway:pr"] != "42" || res.Stack.Params["Value"] != "v1" {
			t.Errorf("tags %v params %v, want the input's", res.Stack.Tags, res.Stack.Params)
		}
		cs := e.inj.Sent("CreateChangeSet")[0].(*cloudformation.CreateChangeSetInput)
		if cs.ChangeSetType != "CREATE" || aws.ToString(cs.ClientToken) == "" {
			t.Errorf("change set type %s token %q, want CREATE with a token", cs.ChangeSetType, aws.ToString(cs.ClientToken))
		}
		if ex := e.inj.Sent("ExecuteChangeSet")[0].(*cloudformation.ExecuteChangeSetInput); aws.ToString(ex.ClientRequestToken) == "" {
			t.Error("ExecuteChangeSet carries no ClientRequestToken")
		}
		if !strings.Contains(e.out.String(), "create-1  CREATE_COMPLETE") {
			t.Errorf("progress lacks the stack's CREATE_COMPLETE event:\n%s", e.out)
		}
		if n := e.inj.Count("CreateStack") + e.inj.Count("UpdateStack"); n != 0 {
			t.Errorf("%d direct CreateStack/UpdateStack calls, want change sets only", n)
		}
	})

	t.Run("termination protection is turned on after the create", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		// moto answers UpdateTerminationProtection with HTTP 500 (not
		// implemented); real AWS turns the protection on and answers the
		// stack ID. Answer as AWS does.
		e.inj.On("UpdateTerminationProtection", func(c *awsfault.Call) (any, error) {
			return &cloudformation.UpdateTerminationProtectionOutput{StackId: c.Params.(*cloudformation.UpdateTerminationProtectionInput).StackName}, nil
		})
		in := e.input("protected-1", "v1")
		in.TerminationProtection = true
		res, err := e.eng.Upsert(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		sent := e.inj.Sent("UpdateTerminationProtection")
		if len(sent) != 1 || !aws.ToBool(sent[0].(*cloudformation.UpdateTerminationProtectionInput).EnableTerminationProtection) {
			t.Fatalf("UpdateTerminationProtection calls %v, want one enabling it", sent)
		}
		if got := aws.ToString(sent[0].(*cloudformation.UpdateTerminationProtectionInput).StackName); res.Action != Created || got != res.Stack.ID {
			t.Errorf("action %s, protection asked for %q; want created, and the new stack's ID %q", res.Action, got, res.Stack.ID)
		}
	})

	t.Run("termination protection a first run could not turn on is turned on by the next run", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		// Real AWS: termination protection is off by default and can be set
		// in any status but DELETE_*; UpdateTerminationProtection sets it
		// and answers the stack ID, DescribeStacks then reports
		// EnableTerminationProtection (CloudFormation User Guide, "Protect
		// CloudFormation stacks from being deleted",
		// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-protect-stacks.html;
		// API Reference, UpdateTerminationProtection). A role without
		// cloudformation:UpdateTerminationProtection gets AccessDenied and
		// the flag stays off. moto implements none of it (HTTP 500), so the
		// hooks answer as AWS does: denied once, then allowed.
		var mu sync.Mutex
		deny, protected := true, map[string]bool{}
		e.inj.On("UpdateTerminationProtection", func(c *awsfault.Call) (any, error) {
			in := c.Params.(*cloudformation.UpdateTerminationProtectionInput)
			mu.Lock()
			defer mu.Unlock()
			if deny {
				return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "User: arn:aws:sts::123456789012:assumed-role/ci/run is not authorized to perform: cloudformation:UpdateTerminationProtection"}
			}
			protected[aws.ToString(in.StackName)] = aws.ToBool(in.EnableTerminationProtection)
			return &cloudformation.UpdateTerminationProtectionOutput{StackId: in.StackName}, nil
		})
		e.inj.On("DescribeStacks", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			if out, ok := res.(*cloudformation.DescribeStacksOutput); ok && err == nil {
				mu.Lock()
				for i := range out.Stacks {
					out.Stacks[i].EnableTerminationProtection = aws.Bool(protected[aws.ToString(out.Stacks[i].StackId)])
				}
				mu.Unlock()
			}
			return res, err
		})
		in := e.input("protect-later", "v1")
		in.TerminationProtection = true
		_, err := e.eng.Upsert(context.Background(), in)
		var se *StackError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "termination protection is still off") || !strings.Contains(err.Error(), "AccessDenied") || se.Next != in.Next {
			t.Fatalf("create with protection denied: %v, want a StackError saying protection is still off, AWS's reason and the next command", err)
		}
		mu.Lock()
		deny = false
		mu.Unlock()
		res, err := e.eng.Upsert(context.Background(), in) // the advised rerun: the update path
		if err != nil {
			t.Fatal(err)
		}
		if res.Action != Unchanged || !res.Stack.TerminationProtection {
			t.Fatalf("rerun: %s, protection %v; want unchanged and protection on", res.Action, res.Stack.TerminationProtection)
		}
		if !strings.Contains(e.out.String(), "protect-later: termination protection was off: turned on") {
			t.Errorf("the rerun does not say it turned the protection on:\n%s", e.out)
		}
		calls := e.inj.Count("UpdateTerminationProtection")
		if _, err := e.eng.Upsert(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		if n := e.inj.Count("UpdateTerminationProtection") - calls; n != 0 {
			t.Errorf("a run on a protected stack called UpdateTerminationProtection %d times, want none", n)
		}
	})

	t.Run("a changed parameter updates the stack", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		e.mustCreate(t, "update-1")
		res, err := e.eng.Upsert(context.Background(), e.input("update-1", "v2"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Action != Updated || res.Stack.Status != "UPDATE_COMPLETE" || res.Stack.Params["Value"] != "v2" {
			t.Fatalf("got %s %s params %v, want updated, UPDATE_COMPLETE, Value v2", res.Action, res.Stack.Status, res.Stack.Params)
		}
		if cs := e.inj.Sent("CreateChangeSet")[1].(*cloudformation.CreateChangeSetInput); cs.ChangeSetType != "UPDATE" {
			t.Errorf("second change set is %s, want UPDATE", cs.ChangeSetType)
		}
	})

	t.Run("the same input again changes nothing and succeeds", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		e.mustCreate(t, "noop-1")
		res, err := e.eng.Upsert(context.Background(), e.input("noop-1", "v1"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Action != Unchanged || res.Stack.Status != "CREATE_COMPLETE" {
			t.Fatalf("got %s %s, want unchanged, still CREATE_COMPLETE", res.Action, res.Stack.Status)
		}
		if n := e.inj.Count("ExecuteChangeSet"); n != 1 {
			t.Errorf("%d ExecuteChangeSet calls, want only the create's", n)
		}
		if !strings.Contains(e.out.String(), "noop-1: no changes") {
			t.Errorf("progress does not say there were no changes:\n%s", e.out)
		}
	})

	t.Run("an empty change set is deleted and counts as unchanged", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		e.mustCreate(t, "empty-1")
		// moto marks a parameter-only change set CREATE_COMPLETE with no
		// changes; real AWS fails a change set without changes with this
		// status and reason, and it stays listed until deleted. Answer as
		// AWS does for the update's change set.
		e.inj.On("DescribeChangeSet", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			if err != nil {
				return res, err
			}
			out := res.(*cloudformation.DescribeChangeSetOutput)
			out.Status, out.ExecutionStatus = "FAILED", "UNAVAILABLE"
			out.StatusReason = aws.String("The submitted information didn't contain changes. Submit different information to create a change set.")
			return out, nil
		})
		res, err := e.eng.Upsert(context.Background(), e.input("empty-1", "v2"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Action != Unchanged {
			t.Fatalf("action %s, want unchanged", res.Action)
		}
		if e.inj.Count("DeleteChangeSet") != 1 || e.inj.Count("ExecuteChangeSet") != 1 {
			t.Errorf("DeleteChangeSet %d, ExecuteChangeSet %d: want the empty change set deleted, not executed",
				e.inj.Count("DeleteChangeSet"), e.inj.Count("ExecuteChangeSet"))
		}
		list, err := e.cfn.ListChangeSets(context.Background(), &cloudformation.ListChangeSetsInput{StackName: aws.String("empty-1")})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list.Summaries {
			if s.ExecutionStatus != "EXECUTE_COMPLETE" {
				t.Errorf("change set %s left behind (%s)", aws.ToString(s.ChangeSetName), s.ExecutionStatus)
			}
		}
	})

	t.Run("deleting an absent stack succeeds", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		res, err := e.eng.Delete(context.Background(), DeleteInput{Name: "never-created"})
		if err != nil || res.Existed {
			t.Fatalf("got %+v, %v; want nothing to delete and no error", res, err)
		}
	})

	t.Run("a stack is deleted", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		e.mustCreate(t, "delete-1")
		res, err := e.eng.Delete(context.Background(), DeleteInput{Name: "delete-1"})
		if err != nil || !res.Existed || len(res.Orphans) != 0 {
			t.Fatalf("got %+v, %v; want deleted, no orphans", res, err)
		}
		st, err := e.eng.Describe(context.Background(), "delete-1")
		if err != nil || st.State != StateAbsent {
			t.Fatalf("after delete: %+v, %v; want absent", st, err)
		}
		if del := e.inj.Sent("DeleteStack")[0].(*cloudformation.DeleteStackInput); aws.ToString(del.ClientRequestToken) == "" {
			t.Error("DeleteStack carries no ClientRequestToken")
		}
	})

	t.Run("a stack carrying production traffic is not deleted", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		e.mustCreate(t, "live-1")
		_, err := e.eng.Delete(context.Background(), DeleteInput{Name: "live-1", Live: func(context.Context, Stack) (bool, error) { return true, nil }})
		if !errors.Is(err, ErrLive) {
			t.Fatalf("err = %v, want ErrLive", err)
		}
		if e.inj.Count("DeleteStack") != 0 {
			t.Error("DeleteStack was called")
		}
	})
}
