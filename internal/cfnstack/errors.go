package cfnstack

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels a *StackError wraps; check them with errors.Is.
var (
	// ErrBusy: another operation was still in progress on the stack when
	// the wait for it ended. Nothing was started.
	ErrBusy = errors.New("stack operation in progress")
	// ErrTimeout: the operation Slipway started did not finish within its
	// bound. CloudFormation goes on with it; the next run reconciles.
	ErrTimeout = errors.New("stack operation did not finish in time")
	// ErrFailed: the operation ended in a failed or rolled-back status.
	ErrFailed = errors.New("stack operation failed")
	// ErrLive: the stack must be deleted to proceed, but the caller's guard
	// says it carries production traffic.
	ErrLive = errors.New("stack carries production traffic")
	// ErrInterrupted: the context was cancelled (Ctrl-C). CloudFormation
	// goes on with the operation; the next run reconciles.
	ErrInterrupted = errors.New("interrupted")
)

// StackError is how every stack failure is reported: which stack, its
// status when Slipway stopped watching, the first resource that failed and
// why, and the command to run next.
type StackError struct {
	Op     string // "create", "update", "delete", "wait", "continue rollback", "re-create"
	Stack  string
	Status string // CloudFormation status when the error was built
	State  State
	// The first resource that failed in this operation (empty if none did)
	// and CloudFormation's reason; without a failed resource, Reason is the
	// stack's own status reason.
	Resource     string
	ResourceType string
	Reason       string
	Orphans      []Resource // resources a delete retained, if any
	Next         string     // the command to run next, from the caller
	Err          error      // ErrBusy, ErrTimeout, ErrFailed, ErrLive, ErrInterrupted, or an API error
}

func (e *StackError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s stack %s", e.Op, e.Stack)
	if e.Status != "" {
		fmt.Fprintf(&b, " (%s)", e.Status)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Resource != "" {
		fmt.Fprintf(&b, ": first failed resource %s (%s)", e.Resource, e.ResourceType)
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, ": %s", e.Reason)
	}
	if len(e.Orphans) > 0 {
		ids := make([]string, len(e.Orphans))
		for i, r := range e.Orphans {
			ids[i] = r.LogicalID
		}
		fmt.Fprintf(&b, "; retained: %s", strings.Join(ids, ", "))
	}
	if e.Next != "" {
		fmt.Fprintf(&b, "; next: run `%s`", e.Next)
	}
	return b.String()
}

func (e *StackError) Unwrap() error { return e.Err }
