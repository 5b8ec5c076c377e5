package awsprov

import (
	"github.com/slipway/slipway/internal/testenv/awsfault"
)

// injector is awsfault's injector in front of moto, with the hook form
// these tests write: a hook answers an operation itself, or calls next
// (moto) and edits the answer, so a test can show what moto never does
// (stuck stacks, ECS rollbacks, unhealthy targets). Each hook's test says
// what real AWS does.
type injector struct{ *awsfault.Injector }

// hook answers an operation; next asks moto.
type hook func(params any, next func() (any, error)) (any, error)

func newInjector() *injector { return &injector{awsfault.New()} }

// on sets op's hook; nil removes it.
func (in *injector) on(op string, h hook) {
	if h == nil {
		in.On(op, nil)
		return
	}
	in.On(op, func(c *awsfault.Call) (any, error) { return h(c.Params, c.Next) })
}

// hook returns the hook of op, to wrap it.
func (in *injector) hook(op string) hook {
	h := in.Hook(op)
	if h == nil {
		return nil
	}
	return func(params any, next func() (any, error)) (any, error) {
		return h(&awsfault.Call{Op: op, Params: params, Next: next})
	}
}

func (in *injector) count(op string) int { return in.Count(op) }
