package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/slipway/slipway/internal/deploy"
)

// The local lock has the AWS lease's semantics (owner, expiry, heartbeat,
// takeover after expiry) in a file per app under the user's cache
// directory: every run on this machine, hence on its Docker engine, sees it.
// Its changes are serialised by a guard file created exclusively; the lease
// itself is written to a temporary file and renamed.

type leaseRecord struct {
	Owner   string    `json:"owner"`
	Token   string    `json:"token"`
	Since   time.Time `json:"since"`
	Expires time.Time `json:"expires"`
}

// LockDir is where local leases live.
func LockDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the lock directory: %w (set HOME)", err)
	}
	return filepath.Join(base, "slipway", "locks"), nil
}

func (p *Provider) leasePath() (string, error) {
	dir, err := LockDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create the lock directory: %w", err)
	}
	return filepath.Join(dir, p.o.App+".lease"), nil
}

// TryLock takes the app's lease for owner, or returns *deploy.LockedError
// naming the holder. An expired lease is taken over.
func (p *Provider) TryLock(ctx context.Context, owner string, ttl time.Duration) (deploy.Lease, error) {
	path, err := p.leasePath()
	if err != nil {
		return nil, err
	}
	var tok [8]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, err
	}
	l := &fileLease{path: path, ttl: ttl, rec: leaseRecord{Owner: owner, Token: hex.EncodeToString(tok[:])}}
	err = guarded(ctx, path, func() error {
		cur, err := readLease(path)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		if cur.Owner != "" && now.Before(cur.Expires) {
			return &deploy.LockedError{Owner: cur.Owner, Since: cur.Since, Expires: cur.Expires}
		}
		l.from = cur.Owner
		l.rec.Since, l.rec.Expires = now, now.Add(ttl)
		return writeLease(path, l.rec)
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

type fileLease struct {
	path string
	ttl  time.Duration
	rec  leaseRecord
	from string
}

func (l *fileLease) TakenFrom() string { return l.from }

// Renew extends the lease, unless someone took it over meanwhile.
func (l *fileLease) Renew(ctx context.Context) error {
	return guarded(ctx, l.path, func() error {
		cur, err := readLease(l.path)
		if err != nil {
			return err
		}
		if cur.Token != l.rec.Token {
			return fmt.Errorf("the lease was taken over by %s after it expired", cur.Owner)
		}
		l.rec.Expires = time.Now().UTC().Add(l.ttl)
		return writeLease(l.path, l.rec)
	})
}

// Unlock gives the lease up if it is still ours.
func (l *fileLease) Unlock(ctx context.Context) error {
	return guarded(ctx, l.path, func() error {
		cur, err := readLease(l.path)
		if err != nil || cur.Token != l.rec.Token {
			return err
		}
		if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove lease %s: %w", l.path, err)
		}
		return nil
	})
}

func readLease(path string) (leaseRecord, error) {
	var r leaseRecord
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	} else if err != nil {
		return r, fmt.Errorf("read lease %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return leaseRecord{}, fmt.Errorf("read lease %s: %w (delete the file if no release runs)", path, err)
	}
	return r, nil
}

func writeLease(path string, r leaseRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write lease: %w", err)
	}
	_, werr := tmp.Write(b)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp.Name()) // best effort: a stray temp file holds no lock
		return fmt.Errorf("write lease: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write lease: %w", err)
	}
	return nil
}

// guardStale is how old a guard file may be before it is taken as left by
// a crashed process: guarded sections take milliseconds.
const guardStale = 10 * time.Second

// guarded runs fn while holding path+".guard", created exclusively.
func guarded(ctx context.Context, path string, fn func() error) error {
	g := path + ".guard"
	for {
		f, err := os.OpenFile(g, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			cerr := f.Close()
			ferr := fn()
			if rerr := os.Remove(g); rerr != nil {
				return errors.Join(ferr, cerr, fmt.Errorf("remove lock guard: %w", rerr))
			}
			return errors.Join(ferr, cerr)
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("lock guard %s: %w", g, err)
		}
		if fi, serr := os.Stat(g); serr == nil && time.Since(fi.ModTime()) > guardStale {
			_ = os.Remove(g) // left by a crashed run; if another run removed it first, ours fails harmlessly
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
