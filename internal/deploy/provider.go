// Package deploy is the orchestration Slipway runs the same way on every
// target: previews (deploy, test, destroy), releases (blue/green or canary,
// tested before traffic), rollback, the traffic split, cleanup, the lock
// that serialises them, and the database flow (golden copy, preview
// clones, expand/contract migrations). It talks to a target through
// Target, the one seam between the orchestration and a target (local
// Docker in package local, AWS in package awsprov); package target opens
// the one a command runs on.
package deploy

import (
	"context"
	"errors"
	"time"

	"github.com/slipway/slipway/internal/manifest"
)

// Roles a stack can have.
const (
	RolePreview    = "preview"
	RoleProduction = "production"
)

// Target is everything a target does for the orchestration, checked at
// compile time in each target's package. The cloud is the state: a target
// stores nothing of its own; stacks, routes, leases and failure marks are
// read back from the target.
type Target interface {
	Deployer
	Scaler
	Marker
	Locker
	Analyzer
	DatabaseServer
}

// Deployer is the core of a target: stacks and their routes.
type Deployer interface {
	// EnsureShared creates or repairs the permanent shared stack. Idempotent.
	EnsureShared(ctx context.Context) error
	// Deploy creates the stack, or replaces its running version without a
	// gap, and returns once it is healthy. It does not route traffic to it,
	// except that a replaced stack keeps the routes it had.
	Deploy(ctx context.Context, s Spec) (Stack, error)
	// Delete removes a stack's routes, drains it and deletes it. Deleting a
	// stack that does not exist succeeds. It refuses a stack that carries
	// production traffic.
	Delete(ctx context.Context, stack string) error
	// Stacks lists this app's stacks with what their tags/labels say.
	Stacks(ctx context.Context) ([]Stack, error)
	// Routes reads the live routing: host rules and production weights.
	Routes(ctx context.Context) (Routes, error)
	// SetHost routes a host name to a stack, or removes the host's rule
	// when stack is "". It changes nothing else, so concurrent deploys of
	// different previews never undo each other.
	SetHost(ctx context.Context, host, stack string) error
	// SetProduction replaces the production weights atomically. Every
	// stack it names must exist and be healthy.
	SetProduction(ctx context.Context, w []Weight) error
}

// Spec is what to deploy.
type Spec struct {
	Stack   string            // from package naming
	Role    string            // RolePreview or RoleProduction
	Image   string            // immutable reference: image ID or repo@sha256:...
	Digest  string            // registry digest when pushed, else the image ID
	Commit  string            // full SHA
	Version string            // build version
	PR      int               // 0 when not a pull request
	Env     map[string]string // APP_MESSAGE, APP_COLOR, ...
	Branch  string            // branch the stack was built from, when known
	Dirty   bool              // built from a working tree with uncommitted changes
	// Host is the host name a preview answers on ("" for production). The
	// aws target puts its listener rule in the deploy stack (ECS needs the
	// target group attached to the ALB before the service starts), so it
	// must know the host at deploy time; the local target ignores it.
	Host string

	// What slipway.yaml says the app needs (Flow.Manifest), the same for
	// every stack of the app. Port is the container port (0: 8080) and
	// reaches the app as PORT; Health is its health check (zero: the
	// target's default). Secrets maps a variable of the app to a
	// reference, never a value: an ARN, a Secrets Manager name or an SSM
	// parameter on aws; on the local target the variable of that name in
	// the caller's environment, read at deploy and given to the container
	// alone (see package local).
	Port    int
	Health  manifest.Health
	Secrets map[string]string
	// Platform is the image's (Image.Platform): the aws target runs the
	// task on its architecture. "" when unknown.
	Platform string
}

// Stack is a deployed stack as the target reports it.
type Stack struct {
	Name    string
	Role    string
	PR      int
	Commit  string
	Digest  string
	Created time.Time
	Healthy bool
	Status  string // provider's words: "running", "exited (1)", "CREATE_COMPLETE"...

	Branch   string    // Spec.Branch
	Dirty    bool      // Spec.Dirty: the commit is not all it runs
	EnvHash  string    // EnvHash of Spec.Env; "" when the target did not record it
	LastLive time.Time // last time it had production weight; zero: never
	State    State     // typed; "" when the provider does not say (healthy, good standing)
	Scaled   bool      // scaled to zero: it can be scaled back up (see Scaler)
	Busy     bool      // an operation is in progress on it (AWS *_IN_PROGRESS)
	// MonthlyCost is the target's estimate of what the stack costs a month
	// in USD as it runs now (aws: infra.StackMonthlyCost from its size,
	// task count and capacity), when CostKnown.
	MonthlyCost float64
	CostKnown   bool
	// URL is the stack's own URL, which any client on the machine reaches
	// without DNS or a header and which goes to this stack alone (the
	// local target: a stack port of its router); "" when the target gives
	// none. Tests then reach the stack through its host or the header.
	URL string

	// The schema the stack's image needs (its labels dev.slipway.schema.*,
	// issue 11); zero when the image does not say.
	Image      string     // Spec.Image: what a one-off migration of this stack runs
	SchemaHead int64      // newest schema it migrates to
	SchemaMin  int64      // oldest schema it runs on
	Contracts  []Contract // its contract migrations
	// NoDatabase: the target recorded that the stack runs without
	// DATABASE_URL (local: its container label), so no migration can break
	// it. False when it has one, and when the target does not say: a
	// release then checks the stack on the new schema.
	NoDatabase bool
}

// State is a stack's lifecycle state, the same words on every target.
type State string

// States a stack can be in.
const (
	StateCreating       State = "creating"
	StateUpdating       State = "updating"
	StateHealthy        State = "healthy"
	StateFailed         State = "failed"          // never came up, or failed its tests or canary: never a rollback target; cleanup removes it
	StateRolledBack     State = "rolled-back"     // last update failed; the previous version runs
	StateRollbackFailed State = "rollback-failed" // needs a continued rollback
	StateDeleting       State = "deleting"
	StateDeleteFailed   State = "delete-failed"
)

// Failure is a failed stack operation as the target reports it: the first
// resource that failed, its reason, and the command to run next (as AWS
// Copilot reports them). Find it with errors.As.
type Failure struct {
	Stack, Resource, Reason, Next string
	Err                           error // the target's own error, with every detail
}

func (f *Failure) Error() string { return f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

// Routes is the live routing: previews by host, production by weight.
type Routes struct {
	Hosts      map[string]string // host name -> stack
	Production []Weight          // empty: no production stack is live
}

// Weight is one stack's share of production traffic.
type Weight struct {
	Stack  string
	Weight int
}

// ErrLive is returned when an action would remove a stack that serves
// production traffic.
var ErrLive = errors.New("stack serves production traffic")

// ErrBusy is returned when another operation is in progress on a stack and
// did not end within the wait's bound: nothing was started.
var ErrBusy = errors.New("another operation is in progress on the stack")

// Live returns the stacks with a positive production weight.
func (r Routes) Live() []string {
	var out []string
	for _, w := range r.Production {
		if w.Weight > 0 {
			out = append(out, w.Stack)
		}
	}
	return out
}
