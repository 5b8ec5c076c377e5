package main

import (
	"context"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The router's garbage collector settings. Its live heap is a few MB, and
// the default GOGC=100 collects every few MB allocated; GOGC=400 under a
// soft 24 MiB memory limit collects about half as often for the same peak
// RSS (bench:router: CPU per request down about 5%, peak RSS 25 MB). A soft
// limit near a large live heap would make the collector run all the time,
// so with a live heap above 12 MiB (thousands of open connections) the
// router goes back to Go's defaults, and returns to the tuned settings
// below 6 MiB. GOGC or GOMEMLIMIT in the environment turn this off.
const (
	tunedGOGC     = 400
	tunedLimit    = 24 << 20
	liftAbove     = tunedLimit / 2
	restoreBelow  = tunedLimit / 4
	gcCheckPeriod = 5 * time.Second
)

// tuneGC applies the tuned settings unless the environment sets its own,
// and watches the live heap until ctx ends.
func tuneGC(ctx context.Context, log *slog.Logger) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	setGC(true)
	go watchHeap(ctx, log)
}

func setGC(tuned bool) {
	if tuned {
		debug.SetGCPercent(tunedGOGC)
		debug.SetMemoryLimit(tunedLimit)
		return
	}
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
}

// nextGCMode is whether the tuned settings should hold with live bytes of
// live heap, tuned being the current mode (hysteresis between the bounds).
func nextGCMode(tuned bool, live uint64) bool {
	if tuned {
		return live <= liftAbove
	}
	return live < restoreBelow
}

func watchHeap(ctx context.Context, log *slog.Logger) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	tick := time.NewTicker(gcCheckPeriod)
	defer tick.Stop()
	tuned := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return // not reported by this runtime: keep the settings
		}
		live := sample[0].Value.Uint64()
		if next := nextGCMode(tuned, live); next != tuned {
			tuned = next
			setGC(tuned)
			log.Info("garbage collector settings changed", "tuned", tuned, "live_heap_bytes", live)
		}
	}
}
