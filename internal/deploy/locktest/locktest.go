// Package locktest is the one test of what every target's lock must do
// (deploy.Locker): the local lease file and the DynamoDB lease run the same
// checks.
package locktest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/deploy"
)

// Semantics checks that the holder is named with when it took the lease and
// when it expires, that a heartbeat keeps it, that it is taken over only
// after expiry (the new holder learns from whom), that the old holder then
// neither renews nor unlocks it, and that an unlocked lease is free.
func Semantics(t *testing.T, l deploy.Locker) {
	t.Helper()
	ctx := context.Background()
	alice, err := l.TryLock(ctx, "alice@laptop", 300*time.Millisecond)
	must(t, err)
	_, err = l.TryLock(ctx, "ci", time.Minute)
	var held *deploy.LockedError
	if !errors.As(err, &held) || held.Owner != "alice@laptop" || held.Expires.IsZero() || held.Since.IsZero() {
		t.Fatalf("second TryLock: %v (%+v), want alice named with since and expiry", err, held)
	}
	must(t, alice.Renew(ctx)) // a heartbeat keeps it
	deadline := time.Now().Add(5 * time.Second)
	var ci deploy.Lease
	for ci == nil {
		if ci, err = l.TryLock(ctx, "ci", time.Minute); err != nil && !errors.As(err, &held) {
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
	if _, err := l.TryLock(ctx, "bob", time.Minute); !errors.As(err, &held) || held.Owner != "ci" {
		t.Fatalf("alice's unlock must not release ci's lease: %v", err)
	}
	must(t, ci.Unlock(ctx))
	bob, err := l.TryLock(ctx, "bob", time.Minute)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	if bob.TakenFrom() != "" {
		t.Errorf("a free lease taken from %q, want nobody", bob.TakenFrom())
	}
	must(t, bob.Unlock(ctx))
}

// Race checks that of n runs taking a free lease at once exactly one wins
// and every other is told who holds it.
func Race(t *testing.T, l deploy.Locker, n int) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, named := []string{}, 0
	var other []error
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := "racer-" + string(rune('a'+i))
			_, err := l.TryLock(context.Background(), owner, time.Minute)
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
	if len(won) != 1 || named != n-1 || len(other) > 0 {
		t.Fatalf("%d racers took the lock (%v), %d were told the holder, other errors %v; want exactly 1 and %d", len(won), won, named, other, n-1)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
