package cfnstack

import (
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// State is what a stack's CloudFormation status means for Slipway.
type State string

// States a stack can be in. Each CloudFormation status maps to one (see
// StateOf).
const (
	StateAbsent         State = "absent"          // no such stack (or DELETE_COMPLETE)
	StateReview         State = "review"          // REVIEW_IN_PROGRESS: a change set was created, never executed
	StateCreating       State = "creating"        // CREATE_IN_PROGRESS
	StateUpdating       State = "updating"        // UPDATE_IN_PROGRESS, UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, IMPORT_IN_PROGRESS
	StateRollingBack    State = "rolling-back"    // ROLLBACK_IN_PROGRESS, UPDATE_ROLLBACK_IN_PROGRESS ...
	StateHealthy        State = "healthy"         // CREATE_COMPLETE, UPDATE_COMPLETE, IMPORT_COMPLETE
	StateRolledBack     State = "rolled-back"     // UPDATE_ROLLBACK_COMPLETE, UPDATE_FAILED: the last update failed, the stack can be updated
	StateFailed         State = "failed"          // ROLLBACK_COMPLETE, CREATE_FAILED: never came up; delete and re-create
	StateRollbackFailed State = "rollback-failed" // ROLLBACK_FAILED, UPDATE_ROLLBACK_FAILED, IMPORT_ROLLBACK_FAILED
	StateDeleting       State = "deleting"        // DELETE_IN_PROGRESS
	StateDeleteFailed   State = "delete-failed"   // DELETE_FAILED
)

// Busy reports whether CloudFormation is running an operation on the stack,
// so no other one may start.
func (s State) Busy() bool {
	switch s {
	case StateCreating, StateUpdating, StateRollingBack, StateDeleting:
		return true
	}
	return false
}

// StateOf maps a CloudFormation stack status to a State. An unknown status
// ending in _IN_PROGRESS counts as busy (updating), any other unknown one
// as failed, so nothing acts on a stack it does not understand.
func StateOf(status types.StackStatus) State {
	switch status {
	case "", types.StackStatusDeleteComplete:
		return StateAbsent
	case types.StackStatusReviewInProgress:
		return StateReview
	case types.StackStatusCreateInProgress:
		return StateCreating
	case types.StackStatusCreateComplete, types.StackStatusUpdateComplete, types.StackStatusImportComplete:
		return StateHealthy
	case types.StackStatusUpdateRollbackComplete, types.StackStatusImportRollbackComplete,
		types.StackStatusUpdateFailed: // UPDATE_FAILED: an update with rollback disabled failed; the next update may proceed
		return StateRolledBack
	case types.StackStatusRollbackComplete, types.StackStatusCreateFailed:
		return StateFailed
	case types.StackStatusRollbackFailed, types.StackStatusUpdateRollbackFailed, types.StackStatusImportRollbackFailed:
		return StateRollbackFailed
	case types.StackStatusDeleteInProgress:
		return StateDeleting
	case types.StackStatusDeleteFailed:
		return StateDeleteFailed
	case types.StackStatusRollbackInProgress, types.StackStatusUpdateRollbackInProgress,
		types.StackStatusUpdateRollbackCompleteCleanupInProgress, types.StackStatusImportRollbackInProgress:
		return StateRollingBack
	}
	if strings.HasSuffix(string(status), "_IN_PROGRESS") {
		return StateUpdating
	}
	return StateFailed
}

// Stack is a stack as DescribeStacks reports it.
type Stack struct {
	Name    string
	ID      string // the stack ARN; empty when absent
	Status  types.StackStatus
	State   State
	Reason  string // StackStatusReason
	Tags    map[string]string
	Outputs map[string]string
	Params  map[string]string
	Created time.Time
	Updated time.Time // zero if never updated
	// TerminationProtection is true when the stack refuses DeleteStack.
	TerminationProtection bool
}

// Resource is one resource of a stack, as an event or DescribeStackResources
// names it.
type Resource struct {
	LogicalID  string
	PhysicalID string
	Type       string
	Status     string
	Reason     string
}

func stackFrom(s types.Stack) Stack {
	out := Stack{
		Name:                  aws.ToString(s.StackName),
		ID:                    aws.ToString(s.StackId),
		Status:                s.StackStatus,
		State:                 StateOf(s.StackStatus),
		Reason:                aws.ToString(s.StackStatusReason),
		Tags:                  map[string]string{},
		Outputs:               map[string]string{},
		Params:                map[string]string{},
		Created:               aws.ToTime(s.CreationTime),
		Updated:               aws.ToTime(s.LastUpdatedTime),
		TerminationProtection: aws.ToBool(s.EnableTerminationProtection),
	}
	for _, t := range s.Tags {
		out.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	for _, o := range s.Outputs {
		out.Outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	for _, p := range s.Parameters {
		out.Params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return out
}
