package local_test

import (
	"context"
	"sort"
	"testing"
	"time"
)

// BenchmarkDatabaseFlow measures, on the local target against real
// Postgres: how long a preview database takes to be ready (cloned from a
// seeded golden database, then migrated with the PR's image in a one-off
// container), and a release whose migration expands production's schema
// (1 -> 2) while 32 clients send requests through the router (at most
// 100,000 and 2 minutes): failed requests must be 0, and every answer reads
// the database (/version reports its schema).
// Run: CI=true go test ./internal/local -run '^$' -bench DatabaseFlow -benchtime 1x
func BenchmarkDatabaseFlow(b *testing.B) {
	for i := 0; i < b.N; i++ {
		benchDatabaseFlow(b)
	}
}

func benchDatabaseFlow(b *testing.B) {
	e := newDBEnv(b)
	ctx := context.Background()
	if _, err := e.releaseAt(images.appA, 0); err != nil {
		b.Fatal(err)
	}
	var clone, migrate, ready []time.Duration
	for pr := 1; pr <= 5; pr++ {
		start := time.Now()
		db, err := e.provider.EnsurePreviewDatabase(ctx, pr)
		if err != nil {
			b.Fatal(err)
		}
		cloned := time.Now()
		if _, err := e.provider.Migrate(ctx, images.appA.Ref, db.URL, false); err != nil {
			b.Fatal(err)
		}
		clone, migrate, ready = append(clone, cloned.Sub(start)), append(migrate, time.Since(cloned)), append(ready, time.Since(start))
	}
	b.ReportMetric(ms(median(clone)), "clone-ms")
	b.ReportMetric(ms(median(migrate)), "migrate-ms")
	b.ReportMetric(ms(median(ready)), "preview-db-ready-ms")
	b.ReportMetric(ms(maxOf(ready)), "preview-db-ready-max-ms")

	// Production back at schema 1, as if v1 was built before 00002: the
	// next release has an expand migration to run under load.
	e.exec(e.app, "DROP TABLE counters")
	e.exec(e.app, "DELETE FROM goose_db_version WHERE version_id = 2")
	prod := e.app + ".localhost"
	load := newLoad()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { runLoad(ctx, load, e.port, prod, 32, 100000, 2*time.Minute, stop); close(done) }()
	time.Sleep(time.Second)
	start := time.Now()
	_, err := e.releaseAt(images.appB, 1)
	took := time.Since(start)
	time.Sleep(time.Second)
	close(stop)
	<-done
	if err != nil {
		b.Fatal(err)
	}
	if got := e.schema(e.app); got != 2 {
		b.Fatalf("production schema %d after the release, want 2", got)
	}
	b.ReportMetric(float64(load.total.Load()), "requests")
	b.ReportMetric(float64(load.failed.Load()), "failed")
	b.ReportMetric(took.Seconds(), "release-s")
	b.Logf("release with the expand migration 1 -> 2 under 32 clients: %s; first failure: %q", load, load.firstErr)
	if load.failed.Load() != 0 || load.total.Load() == 0 {
		b.Errorf("requests failed during the release: %s", load)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func maxOf(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}
