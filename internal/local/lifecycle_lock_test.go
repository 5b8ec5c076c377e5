package local_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/local"
)

// lockProvider is a local provider for lock tests: the lease needs no
// Docker engine, only the cache directory (a temporary one here).
func lockProvider(t *testing.T) *local.Provider {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	return local.New(nil, local.Options{App: "locktest"})
}

func TestTheLocalLeaseNamesItsHolderAndIsTakenOverOnlyAfterExpiry(t *testing.T) {
	p := lockProvider(t)
	ctx := context.Background()
	alice, err := p.TryLock(ctx, "alice@laptop", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.TryLock(ctx, "ci", time.Minute)
	var held *deploy.LockedError
	if !errors.As(err, &held) || held.Owner != "alice@laptop" {
		t.Fatalf("second TryLock: %v, want alice named", err)
	}
	if err := alice.Renew(ctx); err != nil { // a heartbeat keeps it
		t.Fatal(err)
	}
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
		t.Fatalf("alice's renew after the takeover: %v", err)
	}
	if err := alice.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.TryLock(ctx, "bob", time.Minute); !errors.As(err, &held) || held.Owner != "ci" {
		t.Fatalf("alice's unlock must not release ci's lease: %v", err)
	}
	if err := ci.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.TryLock(ctx, "bob", time.Minute); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}

func TestOnlyOneOfManyConcurrentTryLocksWins(t *testing.T) {
	p := lockProvider(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.TryLock(context.Background(), "racer", time.Minute); err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d racers took the lock, want exactly 1", won)
	}
}
