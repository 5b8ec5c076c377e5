package cfnstack

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
)

// changeSetTimeout bounds the creation of a change set, which takes
// seconds.
const changeSetTimeout = 5 * time.Minute

// apply creates a change set of type typ, waits for it, and executes it
// unless it is empty, then waits for the stack. changed is false for an
// empty change set, which it deletes.
func (e *Engine) apply(ctx context.Context, in Input, typ types.ChangeSetType) (changed bool, st Stack, err error) {
	op := "update"
	if typ == types.ChangeSetTypeCreate {
		op = "create"
	}
	name := token(op)
	resourceTypes, err := TemplateResourceTypes(in.Template)
	if err != nil {
		return false, Stack{}, &StackError{Op: op, Stack: in.Name, Err: err}
	}
	out, err := e.api.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{
		StackName:     aws.String(in.Name),
		ChangeSetName: aws.String(name),
		ChangeSetType: typ,
		TemplateBody:  aws.String(in.Template),
		Parameters:    parameters(in.Parameters),
		Tags:          tags(in.Tags),
		Capabilities:  in.Capabilities,
		ResourceTypes: resourceTypes, // what IAM's cloudformation:ResourceTypes reads
		ClientToken:   aws.String(name),
		Description:   aws.String("Slipway " + op),
	})
	if isNoUpdates(err) {
		// moto answers an identical update this way at once; AWS creates
		// the change set and fails it (handled below).
		return false, Stack{}, nil
	}
	if err != nil {
		return false, Stack{}, &StackError{Op: op, Stack: in.Name, Err: fmt.Errorf("create change set: %w", err)}
	}
	cs, err := e.waitChangeSet(ctx, aws.ToString(out.Id))
	if err != nil {
		return false, Stack{}, &StackError{Op: op, Stack: in.Name, Err: err}
	}
	if cs.Status == types.ChangeSetStatusFailed {
		return false, Stack{}, e.failedChangeSet(ctx, op, in.Name, cs)
	}
	log := newEventLog(e.api, e.out, Stack{Name: in.Name, ID: aws.ToString(out.StackId)})
	if err := log.baseline(ctx); err != nil {
		return false, Stack{}, &StackError{Op: op, Stack: in.Name, Err: err}
	}
	if _, err := e.api.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{
		ChangeSetName:      out.Id,
		ClientRequestToken: aws.String(token("execute")),
	}); err != nil {
		return false, Stack{}, &StackError{Op: op, Stack: in.Name, Err: fmt.Errorf("execute change set %s: %w", name, err)}
	}
	st, err = e.wait(ctx, op, log, e.opts.Timeout, ErrTimeout)
	if err != nil {
		return true, st, err
	}
	if st.State != StateHealthy {
		return true, st, failure(op, st, log)
	}
	return true, st, nil
}

// waitChangeSet waits until the change set is created or has failed.
func (e *Engine) waitChangeSet(ctx context.Context, id string) (*cloudformation.DescribeChangeSetOutput, error) {
	w := cloudformation.NewChangeSetCreateCompleteWaiter(e.api, func(o *cloudformation.ChangeSetCreateCompleteWaiterOptions) {
		o.MinDelay = max(e.opts.Poll/5, time.Millisecond)
		o.MaxDelay = e.opts.Poll
		o.Retryable = func(_ context.Context, _ *cloudformation.DescribeChangeSetInput, out *cloudformation.DescribeChangeSetOutput, err error) (bool, error) {
			if err != nil {
				return false, err
			}
			return out.Status == types.ChangeSetStatusCreatePending || out.Status == types.ChangeSetStatusCreateInProgress, nil
		}
	})
	out, err := w.WaitForOutput(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: aws.String(id)}, changeSetTimeout)
	if err != nil {
		return nil, fmt.Errorf("wait for change set %s: %w", id, err)
	}
	return out, nil
}

// failedChangeSet deletes a failed change set (accounts have a limit on
// them). An empty one is success; any other says why it failed.
func (e *Engine) failedChangeSet(ctx context.Context, op, stack string, cs *cloudformation.DescribeChangeSetOutput) error {
	reason := aws.ToString(cs.StatusReason)
	if _, err := e.api.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{ChangeSetName: cs.ChangeSetId}); err != nil {
		return &StackError{Op: op, Stack: stack, Reason: reason, Err: fmt.Errorf("delete failed change set %s: %w", aws.ToString(cs.ChangeSetName), err)}
	}
	if isEmptyChangeSet(reason) {
		return nil
	}
	return &StackError{Op: op, Stack: stack, Reason: "change set failed: " + reason, Err: ErrFailed}
}

// isEmptyChangeSet recognises CloudFormation's reason for a change set
// without changes.
func isEmptyChangeSet(reason string) bool {
	return strings.Contains(reason, "didn't contain changes") || strings.Contains(reason, "No updates are to be performed")
}

func isNoUpdates(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && isEmptyChangeSet(ae.ErrorMessage())
}

// failure builds the error for an operation that ended in a status other
// than the one it aimed for, naming the first resource that failed.
func failure(op string, st Stack, log *eventLog) *StackError {
	se := &StackError{Op: op, Stack: st.Name, Status: string(st.Status), State: st.State, Reason: st.Reason, Err: ErrFailed}
	if r := log.first; r != nil {
		se.Resource, se.ResourceType, se.Reason = r.LogicalID, r.Type, r.Reason
	}
	return se
}

func parameters(m map[string]string) []types.Parameter {
	var out []types.Parameter
	for _, k := range sortedKeys(m) {
		out = append(out, types.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(m[k])})
	}
	return out
}

func tags(m map[string]string) []types.Tag {
	var out []types.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
