//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package magerun

import (
	"fmt"
	"os"
	"syscall"
)

// lock takes an exclusive lock on the file at path, waiting for it; the
// kernel drops it if the process dies, so a killed run never blocks the next.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
