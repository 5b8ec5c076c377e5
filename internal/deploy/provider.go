// Package deploy is the orchestration Slipway runs the same way on every
// target: preview deploy and destroy, and the production deploys the demo
// uses. It talks to a target through Provider, the one seam between the
// orchestration and a target (local Docker, AWS).
package deploy

import (
	"context"
	"errors"
	"time"
)

// Roles a stack can have.
const (
	RolePreview    = "preview"
	RoleProduction = "production"
)

// Provider is what a target must do. The cloud is the state: a provider
// stores nothing of its own; stacks and routes are read back from the target.
type Provider interface {
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
	State    string    // StateFailed, or "" for a stack in good standing
	Scaled   bool      // scaled to zero: it can be scaled back up (see Scaler)
	Busy     bool      // an operation is in progress on it (AWS *_IN_PROGRESS)
}

// StateFailed marks a release stack that failed its tests or its canary: it
// is never a rollback target and cleanup removes it.
const StateFailed = "failed"

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
