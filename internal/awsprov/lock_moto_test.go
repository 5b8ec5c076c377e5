package awsprov

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/deploy"
)

// testLease: the DynamoDB lease (the shared stack's lock table, made by
// moto from the template) has the local lease's semantics: the holder is
// named, a heartbeat keeps it, it is taken over only after expiry and
// the old holder then neither renews nor unlocks it.
func testLease(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	p := e.provider("lease", "")
	must(t, p.EnsureShared(ctx))
	alice, err := p.TryLock(ctx, "alice@laptop", 300*time.Millisecond)
	must(t, err)
	_, err = p.TryLock(ctx, "ci", time.Minute)
	var held *deploy.LockedError
	if !errors.As(err, &held) || held.Owner != "alice@laptop" || held.Expires.IsZero() || held.Since.IsZero() {
		t.Fatalf("second TryLock: %v (%+v), want alice named with since and expiry", err, held)
	}
	must(t, alice.Renew(ctx)) // a heartbeat keeps it
	deadline := time.Now().Add(5 * time.Second)
	var ci deploy.Lease
	for ci == nil {
		if ci, err = p.TryLock(ctx, "ci", time.Minute); err != nil && !errors.As(err, &held) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("alice's lease never expired")
		}
		time.Sleep(20 * time.Millisecond) // polls for expiry, a condition
	}
	if ci.TakenFrom() != "alice@laptop" {
		t.Fatalf("takeover from %q, want alice@laptop", ci.TakenFrom())
	}
	if err := alice.Renew(ctx); err == nil || !strings.Contains(err.Error(), "taken over by ci") {
		t.Fatalf("alice's renew after the takeover: %v, want it refused naming ci", err)
	}
	must(t, alice.Unlock(ctx))
	if _, err := p.TryLock(ctx, "bob", time.Minute); !errors.As(err, &held) || held.Owner != "ci" {
		t.Fatalf("alice's unlock must not release ci's lease: %v", err)
	}
	must(t, ci.Unlock(ctx))
	bob, err := p.TryLock(ctx, "bob", time.Minute)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	if bob.TakenFrom() != "" {
		t.Errorf("a free lease taken from %q, want nobody", bob.TakenFrom())
	}
	must(t, bob.Unlock(ctx))
}

// testLeaseRace: of 16 runs taking a free lease at once, exactly one wins
// (DynamoDB applies conditional writes to an item one at a time; moto's
// server serialises them too) and the others are told who won.
func testLeaseRace(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	p := e.provider("racers", "")
	must(t, p.EnsureShared(ctx))
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, named := []string{}, 0
	var other []error
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := "racer-" + string(rune('a'+i))
			_, err := p.TryLock(ctx, owner, time.Minute)
			var held *deploy.LockedError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, owner)
			case errors.As(err, &held) && strings.HasPrefix(held.Owner, "racer-"):
				named++
			default:
				other = append(other, err)
			}
		}()
	}
	wg.Wait()
	if len(won) != 1 || named != 15 || len(other) > 0 {
		t.Fatalf("%d racers took the lock (%v), %d were told the holder, other errors %v; want exactly 1 and 15", len(won), won, named, other)
	}
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
