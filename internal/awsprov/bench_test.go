package awsprov

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/cfnstack"
)

// BenchmarkPreviewDeploy is the tool's own time for a preview deploy on
// the aws target against moto, excluding the image build and push (the
// image reference is given) and the integration tests: what
// preview:deploy does on AWS between them (reading the shared
// stack, the deploy stack's create through a change set, the ECS and
// target health checks, reading the routes back). moto answers at once,
// so the figure is the tool's calls and waits. Poll intervals: 100 ms (the
// SDK waiter's minimum is a fifth of it), and the 5 s default.
func BenchmarkPreviewDeploy(b *testing.B) {
	e := newAWSEnv(b)
	ctx := context.Background()
	run := 0
	for _, poll := range []time.Duration{100 * time.Millisecond, 0} {
		name := "poll=" + poll.String()
		if poll == 0 {
			name = "poll=default"
		}
		b.Run(name, func(b *testing.B) {
			run++
			app := fmt.Sprintf("bench%d", run) // a fresh app per run: every deploy creates a stack
			p := e.provider(app, app+".example.com")
			o := p.o
			o.Poll, o.HealthTimeout, o.Stack = poll, 0, cfnstack.Options{Poll: poll} // zero: the defaults
			clients := Clients{CFN: p.cfn, ELB: p.elb, ECS: p.ecs}
			must(b, New(clients, o).EnsureShared(ctx))
			b.ResetTimer()
			for i := range b.N {
				spec := previewSpec(app, i+1, app+".example.com")
				p := New(clients, o) // a fresh process: reads the shared stack again
				must(b, p.EnsureShared(ctx))
				_, err := p.Deploy(ctx, spec)
				must(b, err)
				r, err := p.Routes(ctx)
				must(b, err)
				must(b, p.SetHost(ctx, spec.Host, r.Hosts[spec.Host]))
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/deploy")
		})
	}
}
