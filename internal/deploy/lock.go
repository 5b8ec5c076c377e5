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
	err, uerr := Hold(ctx, lease, ttl, func(err error) error {
		f.logf("%s: lost the lock: %v: stopping", op, err)
		return fmt.Errorf("%s: lost the lock: %w", op, err)
	}, fn)
	if uerr != nil {
		f.logf("%s: warning: unlock: %v (the lease expires by itself in %s)", op, uerr, ttl)
	}
	return err
}

// Hold runs fn while it renews lease every third of ttl, and gives the
// lease up afterwards (unlockErr: it expires by itself). When a renewal
// fails, fn's context ends with lost(the renewal's error) as its cause.
// Every holder of the app's lease holds it this way: the flow's
// operations and the aws target's teardown.
func Hold(ctx context.Context, lease Lease, ttl time.Duration, lost func(error) error, fn func(context.Context) error) (err, unlockErr error) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		heartbeat(ctx, lease, ttl/3, func(err error) { cancel(lost(err)) })
	}()
	err = fn(ctx)
	cancel(nil)
	<-done
	return err, lease.Unlock(context.WithoutCancel(ctx))
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

// heartbeat renews lease every interval until ctx ends, and calls lost
// once, with the error, when a renewal fails.
func heartbeat(ctx context.Context, lease Lease, every time.Duration, lost func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := lease.Renew(ctx); err != nil && ctx.Err() == nil {
				lost(err)
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
