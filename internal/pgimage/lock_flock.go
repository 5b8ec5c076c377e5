//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package pgimage

import (
	"fmt"
	"os"
	"syscall"
)

// lock takes an exclusive lock on the file at path, waiting for it; the
// kernel drops it when the process dies, so a killed build never blocks
// the next.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o666) // flock needs no write access, so any user can share it
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close() // not locked: nothing to release
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) // closing releases it too
		_ = f.Close()
	}, nil
}
