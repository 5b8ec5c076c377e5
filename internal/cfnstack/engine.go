package cfnstack

import (
	"context"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// API is the part of the CloudFormation client the engine uses;
// *cloudformation.Client implements it.
type API interface {
	DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
	DescribeStackEvents(context.Context, *cloudformation.DescribeStackEventsInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStackEventsOutput, error)
	ListStackResources(context.Context, *cloudformation.ListStackResourcesInput, ...func(*cloudformation.Options)) (*cloudformation.ListStackResourcesOutput, error)
	CreateChangeSet(context.Context, *cloudformation.CreateChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.CreateChangeSetOutput, error)
	DescribeChangeSet(context.Context, *cloudformation.DescribeChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeChangeSetOutput, error)
	ExecuteChangeSet(context.Context, *cloudformation.ExecuteChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.ExecuteChangeSetOutput, error)
	DeleteChangeSet(context.Context, *cloudformation.DeleteChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.DeleteChangeSetOutput, error)
	DeleteStack(context.Context, *cloudformation.DeleteStackInput, ...func(*cloudformation.Options)) (*cloudformation.DeleteStackOutput, error)
	UpdateStack(context.Context, *cloudformation.UpdateStackInput, ...func(*cloudformation.Options)) (*cloudformation.UpdateStackOutput, error)
	ContinueUpdateRollback(context.Context, *cloudformation.ContinueUpdateRollbackInput, ...func(*cloudformation.Options)) (*cloudformation.ContinueUpdateRollbackOutput, error)
	UpdateTerminationProtection(context.Context, *cloudformation.UpdateTerminationProtectionInput, ...func(*cloudformation.Options)) (*cloudformation.UpdateTerminationProtectionOutput, error)
	GetTemplate(context.Context, *cloudformation.GetTemplateInput, ...func(*cloudformation.Options)) (*cloudformation.GetTemplateOutput, error)
}

var _ API = (*cloudformation.Client)(nil)

// Options bound the engine's waits. Zero values take the defaults.
type Options struct {
	// Poll is the time between two status reads while waiting (default
	// 5 s; the SDK waiter adds up to a fifth of it as jitter).
	Poll time.Duration
	// Timeout bounds one operation Slipway starts: a create, an update, a
	// delete, a continued rollback (default 30 min).
	Timeout time.Duration
	// BusyTimeout bounds the wait for an operation that was already in
	// progress when Slipway looked (default 10 min); past it, ErrBusy.
	BusyTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Minute
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 10 * time.Minute
	}
	return o
}

// Engine runs stack operations and prints their events, one line each, to
// its progress writer.
type Engine struct {
	api  API
	out  io.Writer
	opts Options
}

// New returns an engine over api that prints stack events to progress
// (os.Stderr in the commands).
func New(api API, progress io.Writer, o Options) *Engine {
	if progress == nil {
		progress = io.Discard
	}
	return &Engine{api: api, out: progress, opts: o.withDefaults()}
}

// Guard reports whether a stack carries production traffic. The engine
// asks it before deleting a failed stack to re-create it; true refuses with
// ErrLive.
type Guard func(ctx context.Context, s Stack) (live bool, err error)

// Input is what Upsert applies.
type Input struct {
	Name       string            // stack name, from package naming
	Template   string            // template body (CloudFormation allows 51,200 bytes)
	Parameters map[string]string // every template parameter without a default
	// Tags are the stack tags (app, role, PR, commit, image digest,
	// created-at ...); CloudFormation passes them on to the resources.
	Tags         map[string]string
	Capabilities []types.Capability
	// TerminationProtection is turned on right after the stack is created
	// (change sets cannot carry it), and by any later Upsert that finds it
	// off (a first attempt that failed converges); never turned off here.
	TerminationProtection bool
	// Live guards a failed stack against deletion; nil: nothing is live.
	Live Guard
	// Next is the command a user should run when this fails, shown in the
	// error (e.g. "go run mage.go preview:destroy 42").
	Next string
}

// Action says what Upsert did.
type Action string

// Actions Upsert reports.
const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
	Recreated Action = "re-created" // a failed stack was deleted and created anew
)

// Result is the outcome of a successful Upsert.
type Result struct {
	Action Action
	Stack  Stack // as described after the operation: outputs, tags, status
	// Orphans are resources a delete of the failed stack had to retain
	// before re-creating it; they still exist and cost money.
	Orphans []Resource
}

// DeleteResult is the outcome of a successful Delete.
type DeleteResult struct {
	Existed bool // false: there was no stack to delete
	// Orphans are resources CloudFormation could not delete and that the
	// retry retained: they still exist and must be removed by hand.
	Orphans []Resource
}
