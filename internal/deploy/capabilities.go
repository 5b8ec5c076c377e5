package deploy

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slipway/slipway/internal/naming"
)

// The parts of Target the lifecycle (rollback, traffic, canary, cleanup,
// the lock) uses. Each is named for what it does; every target has them
// all (Target embeds them), so none is optional.

// Scaler scales a stack to zero and back. ScaleUp returns once the stack is
// healthy again; ScaleDown drains it first. A stack with traffic is never
// scaled down.
type Scaler interface {
	ScaleUp(ctx context.Context, stack string) error
	ScaleDown(ctx context.Context, stack string) error
}

// Marker records on the target that a release stack failed (a tag, a
// label), so it is never chosen as a rollback target and cleanup removes it.
type Marker interface {
	MarkFailed(ctx context.Context, stack, reason string) error
}

// Locker is the app's lease: one release, rollback, traffic change or
// cleanup at a time, across machines. TryLock either takes the lease (a
// stale one, whose holder stopped renewing it, is taken over) or returns a
// *LockedError naming the holder.
type Locker interface {
	TryLock(ctx context.Context, owner string, ttl time.Duration) (Lease, error)
}

// Lease is a held lock. Renew pushes its expiry out by its TTL; Unlock gives
// it up. TakenFrom names the previous owner when a stale lease was taken over.
type Lease interface {
	Renew(ctx context.Context) error
	Unlock(ctx context.Context) error
	TakenFrom() string
}

// LockedError says who holds the lock and until when.
type LockedError struct {
	Owner   string
	Since   time.Time
	Expires time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("locked by %s since %s (lease expires %s unless renewed)", e.Owner, e.Since.UTC().Format(time.RFC3339), e.Expires.UTC().Format(time.RFC3339))
}

// Analyzer reads the traffic counters of the target's load balancer, per
// stack, for canary analysis. Counters only grow; the analysis compares two
// samples. A sample also says whether each stack's targets are healthy at
// that moment: a step whose new stack is not healthy at the end of its
// bake fails whatever its counters say (an ALB keeps sending a target group
// whose targets all fail their checks its share: it fails open).
type Analyzer interface {
	Sample(ctx context.Context) (map[string]TrafficSample, error)
}

// TrafficSample is one stack's counters at one moment.
type TrafficSample struct {
	Requests   uint64  // answered requests
	Errors     uint64  // of which 5xx
	LatencySum float64 // seconds, summed over Requests
	Unhealthy  string  // at the moment of the sample: why the stack's targets are not all healthy (which, in what state); "" when they are
}

// EnvHash identifies an app environment: a change of it is a new release,
// like a new image. Targets record it on the stack (label or tag).
func EnvHash(env map[string]string) string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, env[k])
	}
	return naming.Hash(b.String())
}
