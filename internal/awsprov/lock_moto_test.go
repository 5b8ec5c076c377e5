package awsprov

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/deploy/locktest"
)

// testLease: the DynamoDB lease (the shared stack's lock table, made by
// moto from the template) has the local lease's semantics: the holder is
// named, a heartbeat keeps it, it is taken over only after expiry and
// the old holder then neither renews nor unlocks it.
func testLease(t *testing.T, e *awsEnv) {
	p := e.provider("lease", "")
	must(t, p.EnsureShared(context.Background()))
	locktest.Semantics(t, p)
}

// testLeaseRace: of 16 runs taking a free lease at once, exactly one wins
// (DynamoDB applies conditional writes to an item one at a time; moto's
// server serialises them too) and the others are told who won.
func testLeaseRace(t *testing.T, e *awsEnv) {
	p := e.provider("racers", "")
	must(t, p.EnsureShared(context.Background()))
	locktest.Race(t, p, 16)
}

// testLeaseNoTable: a shared stack made before the lock table existed
// gets an error saying what to run.
func testLeaseNoTable(t *testing.T, e *awsEnv) {
	p := e.provider("notable", "") // no EnsureShared: no table
	_, err := p.TryLock(context.Background(), "ci", time.Minute)
	if err == nil || !strings.Contains(err.Error(), "notable-slipway-lock does not exist") || !strings.Contains(err.Error(), "shared:deploy") {
		t.Fatalf("TryLock without the table: %v, want the table named and shared:deploy", err)
	}
}
