package cfnstack

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// wait polls the stack until no operation is in progress, printing its new
// events after each status read, for at most bound. It returns the stack
// as last read; the caller judges whether its final status is a success.
//
// The SDK waiter supplies the bounded polling (Poll, then Poll plus up to a
// fifth as jitter) and the cancellation; the acceptor is ours, because the
// SDK's own acceptors end on a failed status with a bare "waiter state
// transitioned to Failure" and we need the status and events to report.
// Throttled reads are retried by the client's retryer (see awsenv).
//
// Past the bound it returns a *StackError wrapping late (ErrBusy for an
// operation that was already running, ErrTimeout for our own); a cancelled
// ctx returns one wrapping ErrInterrupted with the stack's current status.
func (e *Engine) wait(ctx context.Context, op string, log *eventLog, bound time.Duration, late error) (Stack, error) {
	last := Stack{Name: log.name, ID: log.stack}
	w := cloudformation.NewStackCreateCompleteWaiter(e.api, func(o *cloudformation.StackCreateCompleteWaiterOptions) {
		o.MinDelay = e.opts.Poll
		o.MaxDelay = e.opts.Poll + e.opts.Poll/5
		o.Retryable = func(ctx context.Context, _ *cloudformation.DescribeStacksInput, out *cloudformation.DescribeStacksOutput, err error) (bool, error) {
			if isNotFound(err) || (err == nil && len(out.Stacks) == 0) {
				last = Stack{Name: log.name, State: StateAbsent}
				log.poll(ctx)
				return false, nil
			}
			if err != nil {
				return false, err
			}
			last = stackFrom(out.Stacks[0])
			log.poll(ctx)
			return last.State.Busy(), nil
		}
	})
	_, err := w.WaitForOutput(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(log.stack)}, bound)
	switch {
	case ctx.Err() != nil:
		return last, e.interrupted(ctx, op, log.stack)
	case err == nil:
		return last, nil
	case last.State.Busy() || errors.Is(err, context.DeadlineExceeded):
		return last, &StackError{Op: op, Stack: log.name, Status: string(last.Status), State: last.State, Reason: last.Reason, Err: late}
	}
	return last, &StackError{Op: op, Stack: log.name, Status: string(last.Status), State: last.State, Err: err}
}

// waitBusy waits, up to Options.BusyTimeout and printing its events, for
// the operation in progress on st (not one Slipway started) to end; a
// wait that runs out is ErrBusy.
func (e *Engine) waitBusy(ctx context.Context, name string, st Stack) (Stack, error) {
	fmt.Fprintf(e.out, "%s is %s (%s): waiting up to %s for that operation to end\n", name, st.State, st.Status, e.opts.BusyTimeout)
	return e.wait(ctx, "wait for", e.logFrom(ctx, st), e.opts.BusyTimeout, ErrBusy)
}

// finish is the last step of every operation (Upsert, Delete, Modify) on
// its error: a cancelled one says where the stack is (interrupted), and a
// *StackError gets the operation's next command unless it has one.
func (e *Engine) finish(ctx context.Context, err error, op, stack, next string) error {
	if err != nil && ctx.Err() != nil && !errors.Is(err, ErrInterrupted) {
		err = e.interrupted(ctx, op, stack)
	}
	var se *StackError
	if errors.As(err, &se) && se.Next == "" {
		se.Next = next
	}
	return err
}

// interrupted reads the stack's status once more, on a context of its
// own, so a Ctrl-C still says where CloudFormation is.
func (e *Engine) interrupted(ctx context.Context, op, stack string) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	se := &StackError{Op: op, Stack: stack, Err: ErrInterrupted,
		Reason: "CloudFormation goes on with any operation it started; run the command again to reconcile"}
	s, err := e.Describe(rctx, stack)
	if err != nil {
		se.Reason = "could not read its status: " + err.Error()
		return se
	}
	se.Stack, se.Status, se.State = s.Name, string(s.Status), s.State
	return se
}

// token returns a fresh ClientRequestToken (also used for change set
// names): the SDK retries a mutating call with the same token, so
// CloudFormation runs it once.
func token(op string) string {
	return "slipway-" + op + "-" + time.Now().UTC().Format("20060102T150405") + "-" + rand.Text()
}
