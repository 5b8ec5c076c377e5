package cfnstack

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// maxSteps bounds the reconcile loop: wait out a running operation,
// repair (continue a rollback or delete a failed stack), then apply.
const maxSteps = 4

// Upsert makes the stack run in.Template with in.Parameters: it reads the
// stack's status first and acts on it (see the package doc), so running it
// again after any failure or interruption converges. On failure the error
// is a *StackError carrying in.Next.
func (e *Engine) Upsert(ctx context.Context, in Input) (Result, error) {
	res, err := e.upsert(ctx, in)
	return res, e.finish(ctx, err, "update", in.Name, in.Next)
}

func (e *Engine) upsert(ctx context.Context, in Input) (Result, error) {
	var res Result
	waited, repaired := false, false
	for range maxSteps {
		st, err := e.Describe(ctx, in.Name)
		if err != nil {
			return res, err
		}
		switch {
		case st.State == StateAbsent || st.State == StateReview:
			return e.create(ctx, in, res, repaired)
		case st.State == StateHealthy || st.State == StateRolledBack:
			return e.update(ctx, in, res)
		case st.State.Busy() && waited:
			return res, &StackError{Op: "update", Stack: in.Name, Status: string(st.Status), State: st.State, Reason: st.Reason, Err: ErrBusy}
		case st.State.Busy():
			waited = true
			if _, err := e.waitBusy(ctx, in.Name, st); err != nil {
				return res, err
			}
		case st.State == StateFailed || st.Status == types.StackStatusRollbackFailed:
			orphans, err := e.replaceFailed(ctx, in, st)
			res.Orphans, repaired = append(res.Orphans, orphans...), true
			if err != nil {
				return res, err
			}
		case st.Status == types.StackStatusUpdateRollbackFailed && !repaired:
			repaired = true
			if err := e.continueRollback(ctx, st); err != nil {
				return res, err
			}
		default:
			return res, &StackError{Op: "update", Stack: in.Name, Status: string(st.Status), State: st.State, Reason: st.Reason,
				Err: fmt.Errorf("cannot update a stack that is %s", st.State)}
		}
	}
	return res, &StackError{Op: "update", Stack: in.Name, Err: errors.New("the stack did not settle: run the command again")}
}

func (e *Engine) create(ctx context.Context, in Input, res Result, recreated bool) (Result, error) {
	_, st, err := e.apply(ctx, in, types.ChangeSetTypeCreate)
	if err != nil {
		return res, err
	}
	res.Action, res.Stack = Created, st
	if recreated {
		res.Action = Recreated
	}
	if res, err = e.refresh(ctx, in, res); err != nil {
		return res, err
	}
	return e.protect(ctx, "create", in, res)
}

func (e *Engine) update(ctx context.Context, in Input, res Result) (Result, error) {
	changed, st, err := e.apply(ctx, in, types.ChangeSetTypeUpdate)
	if err != nil {
		return res, err
	}
	res.Action, res.Stack = Updated, st
	if !changed {
		res.Action = Unchanged
		fmt.Fprintf(e.out, "%s: no changes\n", in.Name)
	}
	if res, err = e.refresh(ctx, in, res); err != nil {
		return res, err
	}
	return e.protect(ctx, "update", in, res)
}

// protect turns termination protection on when the input wants it and the
// stack, as just read, does not have it: after a create (change sets
// cannot carry it), and after every update too, so a run whose first
// attempt failed (denied, throttled, interrupted) converges on the next.
// An update never turns it off.
func (e *Engine) protect(ctx context.Context, op string, in Input, res Result) (Result, error) {
	if !in.TerminationProtection || res.Stack.TerminationProtection {
		return res, nil
	}
	st := res.Stack
	if _, err := e.api.UpdateTerminationProtection(ctx, &cloudformation.UpdateTerminationProtectionInput{
		StackName: aws.String(st.ID), EnableTerminationProtection: aws.Bool(true),
	}); err != nil {
		return res, &StackError{Op: op, Stack: in.Name, Status: string(st.Status), State: st.State,
			Err: fmt.Errorf("the stack is %s but termination protection is still off: turn it on: %w", st.State, err)}
	}
	res.Stack.TerminationProtection = true
	if op == "update" {
		fmt.Fprintf(e.out, "%s: termination protection was off: turned on\n", in.Name)
	}
	return res, nil
}

// refresh reads the stack once more for its outputs and tags.
func (e *Engine) refresh(ctx context.Context, in Input, res Result) (Result, error) {
	name := res.Stack.ID
	if name == "" {
		name = in.Name
	}
	st, err := e.Describe(ctx, name)
	if err != nil {
		return res, err
	}
	res.Stack = st
	return res, nil
}

// replaceFailed deletes a stack that never came up (ROLLBACK_COMPLETE,
// ROLLBACK_FAILED, CREATE_FAILED) so it can be created again, unless the
// guard says it carries production traffic.
func (e *Engine) replaceFailed(ctx context.Context, in Input, st Stack) ([]Resource, error) {
	if in.Live != nil {
		live, err := in.Live(ctx, st)
		if err != nil {
			return nil, &StackError{Op: "re-create", Stack: in.Name, Status: string(st.Status), State: st.State,
				Err: fmt.Errorf("check whether it carries production traffic: %w", err)}
		}
		if live {
			return nil, &StackError{Op: "re-create", Stack: in.Name, Status: string(st.Status), State: st.State, Reason: st.Reason, Err: ErrLive}
		}
	}
	fmt.Fprintf(e.out, "%s is %s (%s): deleting it to create it again\n", in.Name, st.State, st.Status)
	return e.deleteStack(ctx, st)
}

// continueRollback asks CloudFormation to finish an update rollback that
// failed, and waits for UPDATE_ROLLBACK_COMPLETE.
func (e *Engine) continueRollback(ctx context.Context, st Stack) error {
	const op = "continue rollback"
	fmt.Fprintf(e.out, "%s is %s: continuing the rollback\n", st.Name, st.Status)
	log := e.logFrom(ctx, st)
	if _, err := e.api.ContinueUpdateRollback(ctx, &cloudformation.ContinueUpdateRollbackInput{
		StackName: aws.String(st.ID), ClientRequestToken: aws.String(token("rollback")),
	}); err != nil {
		return &StackError{Op: op, Stack: st.Name, Status: string(st.Status), State: st.State, Err: fmt.Errorf("continue update rollback: %w", err)}
	}
	after, err := e.wait(ctx, op, log, e.opts.Timeout, ErrTimeout)
	if err != nil {
		return err
	}
	if after.Status != types.StackStatusUpdateRollbackComplete {
		return failure(op, after, log)
	}
	return nil
}

// logFrom starts following a stack's events from now. A failed first read
// is printed and the log starts empty: events are informational.
func (e *Engine) logFrom(ctx context.Context, st Stack) *eventLog {
	log := newEventLog(e.api, e.out, st)
	if err := log.baseline(ctx); err != nil {
		fmt.Fprintf(e.out, "%s: %v\n", st.Name, err)
	}
	return log
}
