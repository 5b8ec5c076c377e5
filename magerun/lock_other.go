//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package magerun

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// staleLock is how old a lock file must be to belong to a run that died
// while compiling (compiling takes seconds).
const staleLock = 10 * time.Minute

// lock creates the file at path exclusively, waiting while another run holds
// it, and removes it on unlock.
func lock(path string) (func(), error) {
	deadline := time.Now().Add(staleLock + time.Minute)
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			_ = f.Close()
			return func() { _ = os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create lock %s: %w", path, err)
		}
		if st, err := os.Stat(path); err == nil && time.Since(st.ModTime()) > staleLock {
			_ = os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("lock %s: another run holds it; remove the file if no run is compiling", path)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
