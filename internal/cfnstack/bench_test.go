package cfnstack

import (
	"context"
	"fmt"
	"testing"

	"github.com/slipway/slipway/internal/testenv"
)

// BenchmarkUpsertAgainstMoto times the engine's own work for a create and
// for a no-op update against moto, which completes stacks at once: API
// round trips and bookkeeping, no waiting. It reports the calls each takes.
func BenchmarkUpsertAgainstMoto(b *testing.B) {
	endpoint := testenv.Moto(b)
	e := newEnv(b, endpoint, fast)
	e.mustCreate(b, "bench-warmup")
	total := func() int {
		n := 0
		for _, op := range []string{"DescribeStacks", "DescribeStackEvents", "CreateChangeSet", "DescribeChangeSet", "ExecuteChangeSet", "DeleteChangeSet"} {
			n += e.inj.Count(op)
		}
		return n
	}
	for _, bc := range []struct {
		name  string
		stack func(i int) string
	}{
		{"create", func(i int) string { return fmt.Sprintf("bench-create-%d", i) }},
		{"unchanged", func(int) string { return "bench-warmup" }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			before, i := total(), 0
			for b.Loop() {
				if _, err := e.eng.Upsert(context.Background(), e.input(bc.stack(i), "v1")); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(total()-before)/float64(i), "calls/op")
		})
	}
}
