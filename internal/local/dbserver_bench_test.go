package local_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"
)

// BenchmarkDatabaseFlow measures, on the local target against real
// Postgres: how long a preview database takes to be ready (cloned from a
// seeded golden database, then migrated with the PR's image), for a PR that
// adds no migration (the clone is at the image's head: no container runs)
// and for one that adds one (a one-off migrate container applies it); and
// a release whose migration expands production's schema (1 -> 2) while 32
// clients send requests through the router (at most 100,000 and 2
// minutes): failed requests must be 0, and every answer reads the database
// (/version reports its schema).
// Run: CI=true go test ./internal/local -run '^$' -bench DatabaseFlow -benchtime 1x
func BenchmarkDatabaseFlow(b *testing.B) {
	for i := 0; i < b.N; i++ {
		benchDatabaseFlow(b)
	}
}

// previewReadyGoal is the figure: a preview database cloned and
// migrated within a second.
const previewReadyGoal = time.Second

// previewTimes are the preview databases' timings of one case.
type previewTimes struct{ clone, migrate, ready []time.Duration }

// benchPreviews clones and migrates the databases of PRs first..first+4
// with image, checking each ends at schema want.
func benchPreviews(b *testing.B, e *dbEnv, first int, image string, want int) previewTimes {
	ctx := context.Background()
	var t previewTimes
	for pr := first; pr < first+5; pr++ {
		start := time.Now()
		db, err := e.flow.Databases().EnsurePreview(ctx, pr)
		if err != nil {
			b.Fatal(err)
		}
		cloned := time.Now()
		m, err := e.flow.Databases().Migrate(ctx, image, db.URL, false)
		if err != nil {
			b.Fatal(err)
		}
		t.clone, t.migrate, t.ready = append(t.clone, cloned.Sub(start)), append(t.migrate, time.Since(cloned)), append(t.ready, time.Since(start))
		if m.To != int64(want) || e.schema(db.Name) != want {
			b.Fatalf("preview database %s: migrate says schema %d, the database %d; want %d", db.Name, m.To, e.schema(db.Name), want)
		}
	}
	return t
}

// report records t's medians as metrics and returns the line that says
// them against the goal.
func (t previewTimes) report(b *testing.B, name string) string {
	ready := median(t.ready)
	b.ReportMetric(ms(median(t.clone)), name+"-clone-ms")
	b.ReportMetric(ms(median(t.migrate)), name+"-migrate-ms")
	b.ReportMetric(ms(ready), name+"-ready-ms")
	b.ReportMetric(ms(maxOf(t.ready)), name+"-ready-max-ms")
	mark := "✓"
	if ready > previewReadyGoal {
		mark = "✗"
	}
	return fmt.Sprintf("preview database ready, %s: median %s (clone %s, migrate %s; max %s) over %d PRs; goal ≤ %s %s",
		name, ready.Round(time.Millisecond), median(t.clone).Round(time.Millisecond), median(t.migrate).Round(time.Millisecond),
		maxOf(t.ready).Round(time.Millisecond), len(t.ready), previewReadyGoal, mark)
}

func benchDatabaseFlow(b *testing.B) {
	e := newDBEnv(b)
	ctx := context.Background()
	if _, err := e.releaseAt(images.appA, 0); err != nil {
		b.Fatal(err)
	}
	added := prImage(b, e, commitExpand, "-- slipway:expand\n-- +goose Up\nALTER TABLE notes ADD COLUMN author text;\n\n-- +goose Down\nALTER TABLE notes DROP COLUMN author;\n")
	figures := []string{
		benchPreviews(b, e, 1, images.appA.Ref, 3).report(b, "no-migration"),
		benchPreviews(b, e, 11, added.Ref, 4).report(b, "one-migration"),
	}
	// Results on stdout, after everything the run logged (a benchmark's
	// log is cut to its first lines).
	defer func() {
		for _, f := range figures {
			fmt.Println(f)
		}
	}()

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
