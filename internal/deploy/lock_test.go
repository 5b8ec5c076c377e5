package deploy

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// heldLocker is the in-memory lease, counting the leases taken.
type heldLocker struct {
	*fakeLocker
	taken int
}

func (l *heldLocker) TryLock(ctx context.Context, owner string, ttl time.Duration) (Lease, error) {
	l.taken++
	return l.fakeLocker.TryLock(ctx, owner, ttl)
}

// lockCheckingProvider fails every change of production made without the
// lease held.
type lockCheckingProvider struct {
	*fakeProvider
	lk *heldLocker
	t  *testing.T
}

func (p lockCheckingProvider) held(op string) {
	p.lk.mu.Lock()
	defer p.lk.mu.Unlock()
	if p.lk.owner == "" {
		p.t.Errorf("%s ran without the lock", op)
	}
}

func (p lockCheckingProvider) SetProduction(ctx context.Context, w []Weight) error {
	p.held("set production")
	return p.fakeProvider.SetProduction(ctx, w)
}

func (p lockCheckingProvider) Delete(ctx context.Context, stack string) error {
	p.held("delete " + stack)
	return p.fakeProvider.Delete(ctx, stack)
}

// A target cannot be built without a lock: TryLock is part of Target (and
// packages local and awsprov check `var _ deploy.Target` at compile time),
// and a release, a rollback, a traffic change and a cleanup each change
// production only while holding the lease.
func TestEveryProductionChangeHoldsTheLock(t *testing.T) {
	if _, ok := reflect.TypeFor[Target]().MethodByName("TryLock"); !ok {
		t.Fatal("Target does not require TryLock: a target without a lock would compile")
	}
	p := newFake()
	f, names := releases(t, p, "aaaaaaa", "bbbbbbb")
	lk := &heldLocker{fakeLocker: &fakeLocker{now: time.Now}}
	p.locker = lk
	f.Target = lockCheckingProvider{fakeProvider: p, lk: lk, t: t}
	ctx := context.Background()
	ops := []struct {
		name string
		run  func() error
	}{
		{"release", func() error { f.Builder = fakeBuilder{"ccccccc"}; _, err := f.Release(ctx, nil); return err }},
		{"rollback", func() error { _, err := f.Rollback(ctx); return err }},
		{"traffic", func() error { return f.SetTraffic(ctx, []Weight{{Stack: names[1], Weight: 100}}) }},
		{"cleanup", func() error {
			_, err := f.Cleanup(ctx, CleanupPolicy{KeepReleases: 1, Parallel: 2}, nil, false)
			return err
		}},
	}
	for _, op := range ops {
		before := lk.taken
		if err := op.run(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		if lk.taken != before+1 || lk.owner != "" {
			t.Errorf("%s took %d leases and left the lock held by %q: want one, given up", op.name, lk.taken-before, lk.owner)
		}
	}
}
