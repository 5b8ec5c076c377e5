package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultLockTTL is how long a lease lives without a heartbeat.
const DefaultLockTTL = 2 * time.Minute

// locked runs fn holding the app's lock: it waits up to LockWait for another
// holder, renews the lease every third of its TTL while fn runs (fn's
// context ends if the lease is lost) and gives it up afterwards. Every
// target has a lock (Target embeds Locker): fn never runs without it.
func (f *Flow) locked(ctx context.Context, op string, fn func(context.Context) error) error {
	lk := f.Target
	ttl := f.LockTTL
	if ttl <= 0 {
		ttl = DefaultLockTTL
	}
	lease, err := f.acquire(ctx, op, lk, ttl)
	if err != nil {
		return err
	}
	if old := lease.TakenFrom(); old != "" {
		f.logf("%s: warning: took over the lock of %s, whose lease had expired (it stopped without unlocking)", op, old)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.heartbeat(ctx, op, lease, ttl/3, cancel)
	}()
	err = fn(ctx)
	cancel(nil)
	<-done
	if uerr := lease.Unlock(context.WithoutCancel(ctx)); uerr != nil {
		f.logf("%s: warning: unlock: %v (the lease expires by itself in %s)", op, uerr, ttl)
	}
	return err
}

func (f *Flow) acquire(ctx context.Context, op string, lk Locker, ttl time.Duration) (Lease, error) {
	deadline := time.Now().Add(f.LockWait) // a real wait: the wall clock, not Flow.Now
	said := false
	for {
		lease, err := lk.TryLock(ctx, f.owner(), ttl)
		var held *LockedError
		if err == nil {
			return lease, nil
		} else if !errors.As(err, &held) {
			return nil, fmt.Errorf("%s: take the lock: %w", op, err)
		}
		if !time.Now().Before(deadline) {
			return nil, fmt.Errorf("%s: %w; waited %s (SLIPWAY_LOCK_WAIT): try again when it is done", op, held, f.LockWait)
		}
		if !said {
			f.logf("%s: waiting up to %s for the lock: %v", op, f.LockWait, held)
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: wait for the lock: %w", op, ctx.Err())
		case <-time.After(min(time.Second, f.LockWait/10+10*time.Millisecond)):
		}
	}
}

func (f *Flow) heartbeat(ctx context.Context, op string, lease Lease, every time.Duration, cancel context.CancelCauseFunc) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := lease.Renew(ctx); err != nil && ctx.Err() == nil {
				f.logf("%s: lost the lock: %v: stopping", op, err)
				cancel(fmt.Errorf("%s: lost the lock: %w", op, err))
				return
			}
		}
	}
}

func (f *Flow) owner() string {
	if f.Owner != "" {
		return f.Owner
	}
	return "unknown"
}
