package awsprov

import (
	"context"
	"sync"

	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// injector sits in front of moto as SDK middleware (on every client of a
// configuration): it counts attempts per operation and lets a hook answer
// one itself or edit moto's answer, so a test can show what moto never does
// (stuck stacks, ECS rollbacks, unhealthy targets). Each hook's test says
// what real AWS does.
type injector struct {
	mu    sync.Mutex
	calls map[string]int
	hooks map[string]hook
}

// hook answers an operation; next asks moto.
type hook func(params any, next func() (any, error)) (any, error)

type paramsKey struct{}

func newInjector() *injector {
	return &injector{calls: map[string]int{}, hooks: map[string]hook{}}
}

func (in *injector) on(op string, h hook) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.hooks[op] = h
}

// hook returns the hook of op, to wrap it.
func (in *injector) hook(op string) hook {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.hooks[op]
}

func (in *injector) count(op string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.calls[op]
}

func (in *injector) apiOption(stack *middleware.Stack) error {
	err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("keepParams",
		func(ctx context.Context, i middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(middleware.WithStackValue(ctx, paramsKey{}, i.Parameters), i)
		}), middleware.Before)
	if err != nil {
		return err
	}
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("inject",
		func(ctx context.Context, i middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			op := awsmw.GetOperationName(ctx)
			in.mu.Lock()
			in.calls[op]++
			h := in.hooks[op]
			in.mu.Unlock()
			var out middleware.DeserializeOutput
			var md middleware.Metadata
			call := func() (any, error) {
				var err error
				out, md, err = next.HandleDeserialize(ctx, i)
				return out.Result, err
			}
			if h == nil {
				_, err := call()
				return out, md, err
			}
			res, err := h(middleware.GetStackValue(ctx, paramsKey{}), call)
			out.Result = res
			return out, md, err
		}), middleware.Before)
}
