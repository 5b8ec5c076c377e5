package cfnstack

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/slipway/slipway/internal/testenv/awsfault"
)

func testReadsAndReconciling(t *testing.T, endpoint string) {

	t.Run("List pages through DescribeStacks and keeps the stacks whose tags match", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		const n = 53 // moto's DescribeStacks pages at 50
		for i := range n {
			app := "listed" // other tests' stacks are tagged demo
			if i%10 == 0 {
				app = "other"
			}
			_, err := e.cfn.CreateStack(context.Background(), &cloudformation.CreateStackInput{
				StackName: aws.String(fmt.Sprintf("list-%02d", i)), TemplateBody: aws.String(e.tmpl),
				Parameters: parameters(map[string]string{"Value": "v"}),
				Tags:       tags(map[string]string{"slipway:app": app, "slipway:pr": fmt.Sprint(i)}),
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		stacks, err := e.eng.List(context.Background(), map[string]string{"slipway:app": "listed"})
		if err != nil {
			t.Fatal(err)
		}
		if len(stacks) != n-6 {
			t.Fatalf("%d stacks, want %d (all tagged listed)", len(stacks), n-6)
		}
		for i, s := range stacks {
			if s.Tags["slipway:app"] != "listed" || s.State != StateHealthy || s.Outputs["ParamName"] != "/slipway-test/"+s.Name {
				t.Errorf("stack %s: tags %v state %s outputs %v", s.Name, s.Tags, s.State, s.Outputs)
			}
			if i > 0 && stacks[i-1].Name >= s.Name {
				t.Errorf("not sorted by name: %s before %s", stacks[i-1].Name, s.Name)
			}
		}
		if got := e.inj.Count("DescribeStacks"); got < 2 {
			t.Errorf("%d DescribeStacks calls, want one per page (at least 2)", got)
		}
	})

	t.Run("Describe says absent for a stack that does not exist", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		st, err := e.eng.Describe(context.Background(), "no-such-stack")
		if err != nil || st.State != StateAbsent || st.Name != "no-such-stack" {
			t.Fatalf("got %+v, %v; want absent", st, err)
		}
	})

	t.Run("a stack left in REVIEW_IN_PROGRESS by an unexecuted change set is created", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		_, err := e.cfn.CreateChangeSet(context.Background(), &cloudformation.CreateChangeSetInput{
			StackName: aws.String("review-1"), ChangeSetName: aws.String("left-behind"), ChangeSetType: types.ChangeSetTypeCreate,
			TemplateBody: aws.String(e.tmpl), Parameters: parameters(map[string]string{"Value": "v0"}),
		})
		if err != nil {
			t.Fatal(err)
		}
		if st, err := e.eng.Describe(context.Background(), "review-1"); err != nil || st.State != StateReview {
			t.Fatalf("before: %s %v, want review", st.State, err)
		}
		res, err := e.eng.Upsert(context.Background(), e.input("review-1", "v1"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Action != Created || res.Stack.State != StateHealthy || res.Stack.Params["Value"] != "v1" {
			t.Fatalf("got %s %s %v, want created, healthy, Value v1", res.Action, res.Stack.State, res.Stack.Params)
		}
	})

	t.Run("an operation in progress is waited for, then the update runs once", func(t *testing.T) {
		e := newEnv(t, endpoint, fast)
		e.mustCreate(t, "wait-1")
		// Real AWS: another run's update finishes a few polls later.
		polls := 0
		e.inj.On("DescribeStacks", func(c *awsfault.Call) (any, error) {
			res, err := c.Next()
			if polls++; polls <= 3 {
				return withStatus(res, err, "wait-1", "UPDATE_IN_PROGRESS", "")
			}
			return res, err
		})
		res, err := e.eng.Upsert(context.Background(), e.input("wait-1", "v2"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Action != Updated || e.inj.Count("ExecuteChangeSet") != 2 {
			t.Fatalf("got %s after %d executes, want updated by one more", res.Action, e.inj.Count("ExecuteChangeSet"))
		}
	})
}

func TestStateOf(t *testing.T) {
	tests := []struct {
		status types.StackStatus
		want   State
		busy   bool
	}{
		{"", StateAbsent, false},
		{"DELETE_COMPLETE", StateAbsent, false},
		{"REVIEW_IN_PROGRESS", StateReview, false},
		{"CREATE_IN_PROGRESS", StateCreating, true},
		{"CREATE_COMPLETE", StateHealthy, false},
		{"UPDATE_COMPLETE", StateHealthy, false},
		{"UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", StateUpdating, true},
		{"UPDATE_ROLLBACK_IN_PROGRESS", StateRollingBack, true},
		{"UPDATE_ROLLBACK_COMPLETE", StateRolledBack, false},
		{"UPDATE_FAILED", StateRolledBack, false},
		{"ROLLBACK_COMPLETE", StateFailed, false},
		{"CREATE_FAILED", StateFailed, false},
		{"ROLLBACK_FAILED", StateRollbackFailed, false},
		{"UPDATE_ROLLBACK_FAILED", StateRollbackFailed, false},
		{"DELETE_IN_PROGRESS", StateDeleting, true},
		{"DELETE_FAILED", StateDeleteFailed, false},
		{"SOME_NEW_IN_PROGRESS", StateUpdating, true},
		{"SOME_NEW_STATUS", StateFailed, false},
	}
	for _, tt := range tests {
		if got := StateOf(tt.status); got != tt.want || got.Busy() != tt.busy {
			t.Errorf("StateOf(%q) = %s (busy %v), want %s (busy %v)", tt.status, got, got.Busy(), tt.want, tt.busy)
		}
	}
}
