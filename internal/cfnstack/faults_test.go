package cfnstack

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/slipway/slipway/internal/testenv/awsfault"
)

// Each test below injects, in front of moto, a state or answer moto never
// produces, and says what real AWS does.
func testFailureModes(t *testing.T, endpoint string) {

	t.Run("a ROLLBACK_COMPLETE stack is deleted and created again", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		old := e.mustCreate(t, "rollback-1")
		// Real AWS: a create whose resource failed rolls back and leaves the
		// stack in ROLLBACK_COMPLETE, which can only be deleted. moto never
		// fails a create: show that status until the stack is deleted.
		e.inj.On("DescribeStacks", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			if e.inj.Count("DeleteStack") > 0 {
				return res, err
			}
			return withStatus(res, err, "rollback-1", "ROLLBACK_COMPLETE", "The following resource(s) failed to create: [Param].")
		})
		var guarded []types.StackStatus
		in := e.input("rollback-1", "v1")
		in.Live = func(_ context.Context, s Stack) (bool, error) { guarded = append(guarded, s.Status); return false, nil }
		res, err := e.eng.Upsert(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if res.Action != Recreated || res.Stack.State != StateHealthy || res.Stack.ID == old.ID {
			t.Fatalf("got %s %s id %s (old %s); want re-created, healthy, a new stack ID", res.Action, res.Stack.State, res.Stack.ID, old.ID)
		}
		if !slices.Equal(guarded, []types.StackStatus{"ROLLBACK_COMPLETE"}) {
			t.Errorf("guard asked about %v, want once, about the failed stack", guarded)
		}
		if del := e.inj.Sent("DeleteStack"); len(del) != 1 || aws.ToString(del[0].(*cloudformation.DeleteStackInput).StackName) != old.ID {
			t.Errorf("DeleteStack calls %v, want one, for the old stack ID", del)
		}
		if !strings.Contains(e.out.String(), "rollback-1 is failed (ROLLBACK_COMPLETE): deleting it to create it again") {
			t.Errorf("progress does not say why the stack is deleted:\n%s", e.out)
		}
	})

	t.Run("a failed create names its first failed resource, and the next run re-creates the stack", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		const why = `Resource handler returned message: "Parameter name: can't be prefixed with \"aws\" or \"ssm\""`
		// Real AWS: a resource that fails to create rolls the stack back to
		// ROLLBACK_COMPLETE, with its CREATE_FAILED event; the resources
		// behind it say "Resource creation cancelled". moto creates
		// everything: show that outcome until the stack is deleted.
		var st Stack
		failed := func() bool { return e.inj.Count("ExecuteChangeSet") == 1 && e.inj.Count("DeleteStack") == 0 }
		e.inj.On("DescribeStacks", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			if out, ok := res.(*cloudformation.DescribeStacksOutput); ok && err == nil && len(out.Stacks) == 1 {
				st = Stack{Name: "failcreate-1", ID: aws.ToString(out.Stacks[0].StackId), Created: aws.ToTime(out.Stacks[0].CreationTime)}
			}
			if failed() {
				return withStatus(res, err, "failcreate-1", "ROLLBACK_COMPLETE", "The following resource(s) failed to create: [Param].")
			}
			return res, err
		})
		e.inj.On("DescribeStackEvents", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			if out, ok := res.(*cloudformation.DescribeStackEventsOutput); ok && err == nil && failed() && st.ID != "" {
				at := st.Created
				out.StackEvents = append([]types.StackEvent{
					event(st, "f5", "failcreate-1", "", "ROLLBACK_COMPLETE", "", at.Add(5)),
					event(st, "f4", "failcreate-1", "", "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create: [Param].", at.Add(4)),
					event(st, "f3", "Other", "AWS::SSM::Parameter", "CREATE_FAILED", "Resource creation cancelled", at.Add(3)),
					event(st, "f2", "Param", "AWS::SSM::Parameter", "CREATE_FAILED", why, at.Add(2)),
					event(st, "f1", "Param", "AWS::SSM::Parameter", "CREATE_IN_PROGRESS", "", at.Add(1)),
				}, out.StackEvents...)
			}
			return res, err
		})
		_, err := e.eng.Upsert(context.Background(), e.input("failcreate-1", "v1"))
		var se *StackError
		if !errors.As(err, &se) || !errors.Is(err, ErrFailed) || se.Op != "create" || se.Status != "ROLLBACK_COMPLETE" {
			t.Fatalf("err = %v, want a failed create ending ROLLBACK_COMPLETE", err)
		}
		if se.Resource != "Param" || se.Reason != why || !strings.Contains(err.Error(), "next: run `go run mage.go preview:destroy 42`") {
			t.Errorf("err = %v, want Param, its reason and the next command", err)
		}
		res, err := e.eng.Upsert(context.Background(), e.input("failcreate-1", "v1"))
		if err != nil || res.Action != Recreated || res.Stack.State != StateHealthy {
			t.Fatalf("second run: %+v, %v; want re-created and healthy", res, err)
		}
	})

	t.Run("a ROLLBACK_COMPLETE stack carrying production traffic is left alone", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		e.mustCreate(t, "rollback-live-1")
		// Real AWS: as above; the guard says the stack is live.
		e.inj.On("DescribeStacks", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			return withStatus(res, err, "rollback-live-1", "ROLLBACK_COMPLETE", "")
		})
		in := e.input("rollback-live-1", "v1")
		in.Live = func(context.Context, Stack) (bool, error) { return true, nil }
		_, err := e.eng.Upsert(context.Background(), in)
		var se *StackError
		if !errors.Is(err, ErrLive) || !errors.As(err, &se) || se.Status != "ROLLBACK_COMPLETE" {
			t.Fatalf("err = %v, want a *StackError wrapping ErrLive with the status", err)
		}
		if e.inj.Count("DeleteStack") != 0 || e.inj.Count("CreateChangeSet") != 1 {
			t.Errorf("DeleteStack %d, CreateChangeSet %d: want nothing after the first create", e.inj.Count("DeleteStack"), e.inj.Count("CreateChangeSet"))
		}
	})

	t.Run("UPDATE_ROLLBACK_FAILED is continued, then the update runs", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		st := e.mustCreate(t, "urf-1")
		// Real AWS: a rollback that cannot undo a resource leaves
		// UPDATE_ROLLBACK_FAILED; ContinueUpdateRollback is accepted, the
		// stack goes UPDATE_ROLLBACK_IN_PROGRESS, then
		// UPDATE_ROLLBACK_COMPLETE, and can be updated. moto answers
		// ContinueUpdateRollback with HTTP 500 (not implemented).
		polls := 0
		e.inj.On("DescribeStacks", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			if e.inj.Count("ContinueUpdateRollback") == 0 {
				return withStatus(res, err, "urf-1", "UPDATE_ROLLBACK_FAILED", "The following resource(s) failed to update: [Param].")
			}
			if polls++; polls == 1 {
				return withStatus(res, err, "urf-1", "UPDATE_ROLLBACK_IN_PROGRESS", "")
			} else if polls == 2 {
				return withStatus(res, err, "urf-1", "UPDATE_ROLLBACK_COMPLETE", "")
			}
			return res, err
		})
		e.inj.On("ContinueUpdateRollback", func(c *awsfault.Call) (any, error) {
			return &cloudformation.ContinueUpdateRollbackOutput{}, nil
		})
		res, err := e.eng.Upsert(context.Background(), e.input("urf-1", "v2"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Action != Updated || res.Stack.Params["Value"] != "v2" {
			t.Fatalf("got %s, Value %q; want updated to v2", res.Action, res.Stack.Params["Value"])
		}
		sent := e.inj.Sent("ContinueUpdateRollback")
		if len(sent) != 1 {
			t.Fatalf("%d ContinueUpdateRollback calls, want 1", len(sent))
		}
		if in := sent[0].(*cloudformation.ContinueUpdateRollbackInput); aws.ToString(in.StackName) != st.ID || aws.ToString(in.ClientRequestToken) == "" {
			t.Errorf("ContinueUpdateRollback for %q token %q, want the stack ID and a token", aws.ToString(in.StackName), aws.ToString(in.ClientRequestToken))
		}
	})

	t.Run("DELETE_FAILED is deleted again retaining the failed resource, reported as an orphan", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		st := e.mustCreate(t, "delfail-1")
		const why = `Resource handler returned message: "User is not authorized to perform: ssm:DeleteParameter"`
		// Real AWS: a resource it cannot delete leaves the stack in
		// DELETE_FAILED with that resource DELETE_FAILED; DeleteStack with
		// RetainResources then deletes the rest and keeps it. moto's
		// failing deletes make the stack vanish instead, so the first
		// DeleteStack is answered here and not sent; the retry goes to moto.
		e.inj.On("DeleteStack", func(c *awsfault.Call) (any, error) {
			if c.N == 1 {
				return &cloudformation.DeleteStackOutput{}, nil
			}
			return c.Next()
		})
		failed := func() bool { return e.inj.Count("DeleteStack") == 1 }
		e.inj.On("DescribeStacks", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			if failed() {
				return withStatus(res, err, "delfail-1", "DELETE_FAILED", "The following resource(s) failed to delete: [Param].")
			}
			return res, err
		})
		e.inj.On("ListStackResources", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			if out, ok := res.(*cloudformation.ListStackResourcesOutput); ok && err == nil && failed() {
				for i := range out.StackResourceSummaries {
					out.StackResourceSummaries[i].ResourceStatus = "DELETE_FAILED"
					out.StackResourceSummaries[i].ResourceStatusReason = aws.String(why)
				}
			}
			return res, err
		})
		at := st.Created
		e.inj.On("DescribeStackEvents", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			if out, ok := res.(*cloudformation.DescribeStackEventsOutput); ok && err == nil && failed() {
				out.StackEvents = append([]types.StackEvent{
					event(st, "d3", "delfail-1", "", "DELETE_FAILED", "The following resource(s) failed to delete: [Param].", at.Add(3)),
					event(st, "d2", "Param", "AWS::SSM::Parameter", "DELETE_FAILED", why, at.Add(2)),
					event(st, "d1", "delfail-1", "", "DELETE_IN_PROGRESS", "User Initiated", at.Add(1)),
				}, out.StackEvents...)
			}
			return res, err
		})
		res, err := e.eng.Delete(context.Background(), DeleteInput{Name: "delfail-1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Orphans) != 1 || res.Orphans[0].LogicalID != "Param" || res.Orphans[0].Type != "AWS::SSM::Parameter" || res.Orphans[0].Reason != why {
			t.Fatalf("orphans %+v, want Param with its reason", res.Orphans)
		}
		del := e.inj.Sent("DeleteStack")
		if len(del) != 2 || !slices.Equal(del[1].(*cloudformation.DeleteStackInput).RetainResources, []string{"Param"}) {
			t.Fatalf("DeleteStack calls %d, want a second one retaining [Param]", len(del))
		}
		if after, err := e.eng.Describe(context.Background(), "delfail-1"); err != nil || after.State != StateAbsent {
			t.Errorf("after delete: %s %v, want absent", after.State, err)
		}
		if n := strings.Count(e.out.String(), "DELETE_FAILED  Param (AWS::SSM::Parameter): "+why); n != 1 {
			t.Errorf("the failed resource's event printed %d times, want once:\n%s", n, e.out)
		}
	})

	t.Run("a stack stuck IN_PROGRESS past the bound is busy and gets no second operation", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		e.mustCreate(t, "stuck-1")
		// Real AWS: another run's update can hold a stack in
		// UPDATE_IN_PROGRESS for many minutes, and a second update is
		// refused. moto finishes every operation before it answers.
		e.inj.On("DescribeStacks", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			return withStatus(res, err, "stuck-1", "UPDATE_IN_PROGRESS", "")
		})
		_, err := e.eng.Upsert(context.Background(), e.input("stuck-1", "v2"))
		var se *StackError
		if !errors.Is(err, ErrBusy) || !errors.As(err, &se) || se.Status != "UPDATE_IN_PROGRESS" || se.State != StateUpdating {
			t.Fatalf("err = %v, want a *StackError wrapping ErrBusy, UPDATE_IN_PROGRESS", err)
		}
		if !strings.Contains(err.Error(), "go run mage.go preview:destroy 42") {
			t.Errorf("error %q does not say what to run next", err)
		}
		if n := e.inj.Count("CreateChangeSet") + e.inj.Count("ExecuteChangeSet"); n != 2 {
			t.Errorf("%d change set calls, want only the first create's 2", n)
		}
		if max := int(fast.BusyTimeout/fast.Poll) + 3; e.inj.Count("DescribeStacks") > max {
			t.Errorf("%d DescribeStacks calls, want at most %d for a %s bound at a %s poll", e.inj.Count("DescribeStacks"), max, fast.BusyTimeout, fast.Poll)
		}
	})

	t.Run("our own update stuck past the bound times out after exactly one execute", func(t *testing.T) {
		o := fast
		o.Timeout = 300 * fast.Poll / 20
		e := newEnv(t, endpoint, o)
		e.mustCreate(t, "stuck-own-1")
		// Real AWS: an ECS service that never stabilises keeps the stack
		// UPDATE_IN_PROGRESS for up to three hours.
		e.inj.On("DescribeStacks", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			if e.inj.Count("ExecuteChangeSet") == 2 {
				return withStatus(res, err, "stuck-own-1", "UPDATE_IN_PROGRESS", "")
			}
			return res, err
		})
		_, err := e.eng.Upsert(context.Background(), e.input("stuck-own-1", "v2"))
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
		if n := e.inj.Count("ExecuteChangeSet"); n != 2 {
			t.Errorf("%d ExecuteChangeSet calls, want the create's and one update", n)
		}
	})

	t.Run("Ctrl-C reports the stack's state and leaves the operation running", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		e.mustCreate(t, "cancel-1")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// Real AWS: the update goes on after the tool stops watching.
		polls := 0
		e.inj.On("DescribeStacks", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			if e.inj.Count("ExecuteChangeSet") < 2 {
				return res, err
			}
			if polls++; polls == 2 {
				cancel()
			}
			return withStatus(res, err, "cancel-1", "UPDATE_IN_PROGRESS", "")
		})
		_, err := e.eng.Upsert(ctx, e.input("cancel-1", "v2"))
		var se *StackError
		if !errors.Is(err, ErrInterrupted) || !errors.As(err, &se) || se.Status != "UPDATE_IN_PROGRESS" {
			t.Fatalf("err = %v, want ErrInterrupted with the current status UPDATE_IN_PROGRESS", err)
		}
		if n := e.inj.Count("ContinueUpdateRollback") + e.inj.Count("DeleteStack") + e.inj.Count("CancelUpdateStack"); n != 0 {
			t.Errorf("%d calls after the interrupt, want none", n)
		}
	})
}
