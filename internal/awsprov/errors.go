package awsprov

import (
	"errors"
	"fmt"

	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/deploy"
)

var errNoShared = errors.New("no shared stack")

// failure turns the engine's *StackError into the seam's *deploy.Failure,
// with deploy.ErrBusy and deploy.ErrLive findable by errors.Is.
func failure(err error) error {
	var se *cfnstack.StackError
	if !errors.As(err, &se) {
		return err
	}
	inner := err
	switch {
	case errors.Is(err, cfnstack.ErrBusy):
		inner = fmt.Errorf("%w: %w", deploy.ErrBusy, err)
	case errors.Is(err, cfnstack.ErrLive):
		inner = fmt.Errorf("%w: %w", deploy.ErrLive, err)
	}
	return &deploy.Failure{Stack: se.Stack, Resource: se.Resource, Reason: se.Reason, Next: se.Next, Err: inner}
}

// rolloutFailure is a deploy that CloudFormation completed but ECS or the
// ALB did not: the stack is COMPLETE, the app is not serving.
func rolloutFailure(stack, resource, reason, next string) error {
	return &deploy.Failure{Stack: stack, Resource: resource, Reason: reason, Next: next,
		Err: fmt.Errorf("deploy stack %s: %s: %s; next: run `%s`", stack, resource, reason, next)}
}
