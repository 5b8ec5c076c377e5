package cfnstack

import (
	"context"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// ModifyInput changes some parameters and tags of an existing stack and
// nothing else.
type ModifyInput struct {
	Name       string
	Parameters map[string]string // the parameters to change; every other keeps its value
	// Tags are merged onto the stack's tags; a tag set to "" is removed.
	Tags         map[string]string
	Capabilities []types.Capability
	Next         string // the command to run when this fails
}

// Modify updates a healthy stack in place with its own previous template:
// only the parameters and tags named change (scaling a kept release, marking
// it failed), so a newer template of this binary never reaches an old
// stack. It is one UpdateStack (a change set cannot keep the template
// without re-reading it, and its tags are the same call's); it waits for a
// running operation up to Options.BusyTimeout first, and prints events.
// No change at all is success.
func (e *Engine) Modify(ctx context.Context, in ModifyInput) (Stack, error) {
	st, err := e.modify(ctx, in)
	return st, e.finish(ctx, err, "update", in.Name, in.Next)
}

func (e *Engine) modify(ctx context.Context, in ModifyInput) (Stack, error) {
	st, err := e.Describe(ctx, in.Name)
	if err != nil {
		return st, err
	}
	if st.State.Busy() {
		if st, err = e.waitBusy(ctx, in.Name, st); err != nil {
			return st, err
		}
	}
	if st.State != StateHealthy && st.State != StateRolledBack {
		return st, &StackError{Op: "update", Stack: in.Name, Status: string(st.Status), State: st.State, Reason: st.Reason,
			Err: fmt.Errorf("cannot change a stack that is %s", st.State)}
	}
	merged := maps.Clone(st.Tags)
	for k, v := range in.Tags {
		if v == "" {
			delete(merged, k)
		} else {
			merged[k] = v
		}
	}
	params := make([]types.Parameter, 0, len(st.Params))
	for _, k := range sortedKeys(st.Params) {
		if v, ok := in.Parameters[k]; ok {
			params = append(params, types.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
		} else {
			params = append(params, types.Parameter{ParameterKey: aws.String(k), UsePreviousValue: aws.Bool(true)})
		}
	}
	resourceTypes, err := e.stackResourceTypes(ctx, st.ID)
	if err != nil {
		return st, &StackError{Op: "update", Stack: in.Name, Status: string(st.Status), State: st.State, Err: err}
	}
	log := e.logFrom(ctx, st)
	_, err = e.api.UpdateStack(ctx, &cloudformation.UpdateStackInput{
		StackName: aws.String(st.ID), UsePreviousTemplate: aws.Bool(true), Parameters: params, ResourceTypes: resourceTypes,
		Tags: tags(merged), Capabilities: in.Capabilities, ClientRequestToken: aws.String(token("modify")),
	})
	if isNoUpdates(err) {
		return st, nil
	}
	if err != nil {
		return st, &StackError{Op: "update", Stack: in.Name, Status: string(st.Status), State: st.State, Err: fmt.Errorf("update stack: %w", err)}
	}
	after, err := e.wait(ctx, "update", log, e.opts.Timeout, ErrTimeout)
	if err != nil {
		return after, err
	}
	if after.State != StateHealthy {
		return after, failure("update", after, log)
	}
	return e.Describe(ctx, st.ID)
}
