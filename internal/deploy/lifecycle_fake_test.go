package deploy

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/slipway/slipway/internal/database"
)

// The fake's lifecycle capabilities: scaling, failure marks, a lease and
// traffic counters, kept in memory as a target would keep them.

func (f *fakeProvider) ScaleUp(_ context.Context, stack string) error {
	f.calls = append(f.calls, "scale-up "+stack)
	s := f.stacks[stack]
	s.Scaled, s.Healthy = false, true
	f.stacks[stack] = s
	return nil
}

func (f *fakeProvider) ScaleDown(_ context.Context, stack string) error {
	f.calls = append(f.calls, "scale-down "+stack)
	s := f.stacks[stack]
	s.Scaled, s.Healthy = true, false
	f.stacks[stack] = s
	return nil
}

func (f *fakeProvider) MarkFailed(_ context.Context, stack, _ string) error {
	f.calls = append(f.calls, "failed "+stack)
	s := f.stacks[stack]
	s.State = StateFailed
	f.stacks[stack] = s
	return nil
}

func (f *fakeProvider) Sample(context.Context) (map[string]TrafficSample, error) {
	f.samples++
	out := map[string]TrafficSample{}
	for _, w := range f.routes.Production {
		n := uint64(w.Weight * f.samples)
		errs := uint64(0)
		if w.Stack == f.badStack {
			errs = n / 5
		}
		out[w.Stack] = TrafficSample{Requests: n, Errors: errs, LatencySum: float64(n) * 0.002}
	}
	return out, nil
}

// fakeLocker is a lease in memory with the same rules as the targets'.
type fakeLocker struct {
	mu      sync.Mutex
	owner   string
	since   time.Time
	expires time.Time
	now     func() time.Time
	tries   int
}

func (l *fakeLocker) TryLock(_ context.Context, owner string, ttl time.Duration) (Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tries++
	now := l.now()
	if l.owner != "" && now.Before(l.expires) {
		return nil, &LockedError{Owner: l.owner, Since: l.since, Expires: l.expires}
	}
	from := l.owner
	l.owner, l.since, l.expires = owner, now, now.Add(ttl)
	return &fakeLease{l: l, owner: owner, from: from}, nil
}

type fakeLease struct {
	l           *fakeLocker
	owner, from string
}

func (x *fakeLease) Renew(context.Context) error { return nil }
func (x *fakeLease) TakenFrom() string           { return x.from }
func (x *fakeLease) Unlock(context.Context) error {
	x.l.mu.Lock()
	defer x.l.mu.Unlock()
	if x.l.owner == x.owner {
		x.l.owner = ""
	}
	return nil
}

func (f *fakeProvider) TryLock(ctx context.Context, owner string, ttl time.Duration) (Lease, error) {
	return f.locker.TryLock(ctx, owner, ttl)
}

// The fake's database: none. The database tests use dbProvider, which has
// one; a flow with the database off never calls these.

var errFakeNoDatabase = errors.New("the fake target has no database server: use newDBFake")

func (f *fakeProvider) OpenDatabaseAdmin(context.Context, bool) (DatabaseAdmin, error) {
	return nil, errFakeNoDatabase
}
func (f *fakeProvider) DatabasePassword(context.Context, DatabaseID) (string, error) {
	return "", errFakeNoDatabase
}
func (f *fakeProvider) KeepDatabaseURL(context.Context, DatabaseID, database.URL, string) (SecretURL, error) {
	return nil, errFakeNoDatabase
}
func (f *fakeProvider) ForgetDatabaseURL(context.Context, DatabaseID) error { return errFakeNoDatabase }
func (f *fakeProvider) RunOnce(context.Context, string, OneOff, SecretURL) (string, error) {
	return "", errFakeNoDatabase
}
func (f *fakeProvider) ImageSchemaHead(context.Context, string) (int64, error) {
	return 0, errFakeNoDatabase
}
func (f *fakeProvider) PreviewDatabase(context.Context, int, func(context.Context) (PreviewDatabase, error)) (PreviewDatabase, error) {
	return PreviewDatabase{}, errFakeNoDatabase
}
