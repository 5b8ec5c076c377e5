package local_test

import (
	"context"
	"testing"
	"time"
)

// BenchmarkReleaseAndRollbackUnderLoad releases v2 over v1 and rolls back
// while 32 clients send requests through the router on loopback (at least
// 50,000, at most 200,000, and never longer than 3 minutes). It reports
// failed requests, the share of answers from v2 between the release and the
// rollback, from v1 after the rollback, and how long the rollback took.
// Run: CI=true go test ./internal/local -run '^$' -bench ReleaseAndRollback -benchtime 1x
func BenchmarkReleaseAndRollbackUnderLoad(b *testing.B) {
	for i := 0; i < b.N; i++ {
		benchReleaseRollback(b)
	}
}

func benchReleaseRollback(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	prod := e.app + ".localhost"
	e.builder.set(images.appA)
	if _, err := e.flow.Release(ctx, nil); err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	load := newLoad()
	started := time.Now()
	go func() { runLoad(ctx, load, e.port, prod, 32, 200000, 3*time.Minute, stop); close(done) }()
	time.Sleep(time.Second)
	e.builder.set(images.appB)
	e.flow.Now = func() time.Time { return time.Now().Add(time.Hour) }
	if _, err := e.flow.Release(ctx, nil); err != nil {
		close(stop)
		b.Fatal(err)
	}
	load.markShift(time.Now(), commitB)
	time.Sleep(2 * time.Second)
	rbStart := time.Now()
	load.markEnd.Store(rbStart.UnixNano())
	afterV2, allV2 := load.afterWant.Load(), load.afterAll.Load()
	if _, err := e.flow.Rollback(ctx); err != nil {
		close(stop)
		b.Fatal(err)
	}
	rbTook := time.Since(rbStart)
	load.markEnd.Store(0)
	load.afterWant.Store(0)
	load.afterAll.Store(0)
	load.markShift(time.Now(), commitA)
	for load.total.Load() < 50000 && time.Since(started) < 3*time.Minute {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	close(stop)
	<-done
	elapsed := time.Since(started)
	b.ReportMetric(float64(load.total.Load()), "requests")
	b.ReportMetric(float64(load.failed.Load()), "failed")
	b.ReportMetric(float64(load.total.Load())/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(afterV2, allV2), "%v2-after-release")
	b.ReportMetric(pct(load.afterWant.Load(), load.afterAll.Load()), "%v1-after-rollback")
	b.ReportMetric(float64(rbTook.Milliseconds()), "rollback-ms")
	b.Logf("%s; first failure: %q", load, load.firstErr)
	if load.failed.Load() != 0 || len(load.byCommit) > 2 {
		b.Errorf("requests failed or came from elsewhere: %s", load)
	}
}

func pct(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) * 100 / float64(of)
}
