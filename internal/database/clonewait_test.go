package database

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// slowCloneSession is a server whose CREATE DATABASE outlives the client's
// wait (the RDS Data API answers after 45 s and the statement goes on):
// the database appears after appearAfter looks.
type slowCloneSession struct {
	creates, looks, appearAfter int
}

func (s *slowCloneSession) Query(_ context.Context, sql string, _ ...Arg) ([][]*string, error) {
	switch {
	case strings.HasPrefix(sql, "CREATE DATABASE"):
		s.creates++
		return nil, ErrStillRunning
	case strings.Contains(sql, "FROM pg_database WHERE datname"):
		s.looks++
		if s.appearAfter > 0 && s.looks >= s.appearAfter {
			name := "shop_pr_7"
			return [][]*string{{&name}}, nil
		}
		return nil, nil
	}
	return nil, nil // ending the template's sessions
}

func (s *slowCloneSession) Close(context.Context) error { return nil }

// A clone the executor stopped waiting for is waited for, bounded, by
// looking for the database it makes; it is never run a second time (that
// would collide with the first, which is still copying).
func TestACloneThatOutlivesTheClientsWaitIsWaitedForNotRunAgain(t *testing.T) {
	defer func(w, p time.Duration) { cloneWait, cloneWaitPoll = w, p }(cloneWait, cloneWaitPoll)
	cloneWait, cloneWaitPoll = time.Second, time.Millisecond

	s := &slowCloneSession{appearAfter: 3}
	if err := createFrom(context.Background(), s, "shop_pr_7", "shop_golden_2", "shop_pr_7"); err != nil {
		t.Fatalf("clone: %v, want it to end once the database appears", err)
	}
	if s.creates != 1 || s.looks != 3 {
		t.Fatalf("CREATE DATABASE ran %d times and the database was looked for %d times: want once, and until it appeared", s.creates, s.looks)
	}

	never := &slowCloneSession{}
	err := createFrom(context.Background(), never, "shop_pr_7", "shop_golden_2", "shop_pr_7")
	if !errors.Is(err, ErrStillRunning) || !strings.Contains(err.Error(), "was not created within 1s") || never.creates != 1 {
		t.Fatalf("a clone that never ends: %v (ran %d times), want a bounded wait that says so, and no second CREATE", err, never.creates)
	}
}
