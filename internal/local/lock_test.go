package local_test

import (
	"testing"

	"github.com/slipway/slipway/internal/deploy/locktest"
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
	locktest.Semantics(t, lockProvider(t))
}

func TestOnlyOneOfManyConcurrentTryLocksWins(t *testing.T) {
	locktest.Race(t, lockProvider(t), 16)
}
