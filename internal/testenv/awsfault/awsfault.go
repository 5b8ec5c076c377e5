// Package awsfault puts an injector in front of an AWS API endpoint (moto in
// the tests) as aws-sdk-go-v2 middleware: it counts every attempt per
// operation, keeps their inputs, and lets a hook answer an attempt itself
// or edit what the endpoint answered. Tests use it to show what moto never
// does (failed and stuck stacks, throttling, ECS rollbacks, unhealthy
// targets); each such test says what real AWS does.
package awsfault

import (
	"context"
	"sync"

	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Call is one attempt of an operation as it leaves the client. A hook may
// answer it without the endpoint (return an output or an error) or call
// Next and edit what the endpoint answered.
type Call struct {
	Op     string
	Params any // the operation's typed input
	N      int // 1 for the operation's first attempt through this injector
	Next   func() (any, error)
}

// Hook answers an attempt.
type Hook func(c *Call) (any, error)

// Injector counts attempts and runs hooks. Add APIOption to a client's
// (or a configuration's) APIOptions.
type Injector struct {
	mu     sync.Mutex
	calls  map[string]int
	params map[string][]any
	hooks  map[string]Hook
}

type paramsKey struct{}

// New returns an injector with no hooks.
func New() *Injector {
	return &Injector{calls: map[string]int{}, params: map[string][]any{}, hooks: map[string]Hook{}}
}

// On sets the hook of an operation; nil removes it.
func (in *Injector) On(op string, h Hook) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.hooks[op] = h
}

// Hook returns the hook of op (nil when there is none), so a test can wrap it.
func (in *Injector) Hook(op string) Hook {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.hooks[op]
}

// Count is how many attempts of op reached the injector (the endpoint, or a
// hook).
func (in *Injector) Count(op string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.calls[op]
}

// Sent returns the inputs of every attempt of op.
func (in *Injector) Sent(op string) []any {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]any(nil), in.params[op]...)
}

// APIOption installs the injector on a client's middleware stack.
func (in *Injector) APIOption(stack *middleware.Stack) error {
	// Initialize: the typed input, for the hooks below (once per operation).
	err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("keepParams",
		func(ctx context.Context, i middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(middleware.WithStackValue(ctx, paramsKey{}, i.Parameters), i)
		}), middleware.Before)
	if err != nil {
		return err
	}
	// Deserialize, first: inside the retry loop, so an injected throttle is
	// retried by the client's retryer like a real one.
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("inject",
		func(ctx context.Context, i middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			op := awsmw.GetOperationName(ctx)
			params := middleware.GetStackValue(ctx, paramsKey{})
			in.mu.Lock()
			in.calls[op]++
			in.params[op] = append(in.params[op], params)
			c := &Call{Op: op, Params: params, N: in.calls[op]}
			h := in.hooks[op]
			in.mu.Unlock()
			var out middleware.DeserializeOutput
			var md middleware.Metadata
			c.Next = func() (any, error) {
				var err error
				out, md, err = next.HandleDeserialize(ctx, i)
				return out.Result, err
			}
			if h == nil {
				_, err := c.Next()
				return out, md, err
			}
			res, err := h(c)
			out.Result = res
			return out, md, err
		}), middleware.Before)
}
