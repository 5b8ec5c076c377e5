package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// treeSlots is how many directories a checkout keeps its builds' files in:
// as many builds can run at once without extracting everything afresh.
const treeSlots = 4

// Open makes the tree's files available in a directory and returns where
// the checkout's own files are in it, and done, to call once they are no
// longer read. A build reuses one of the slot directories kept in the
// checkout's git directory (slipway-trees/N): git brings it to exactly
// the tree, writing only the files that differ from what it holds, and
// removes anything else found there; the slot is locked until done. When
// every slot is busy, or a slot cannot be made or locked (a read-only git
// directory, a system without flock), the tree is extracted into a
// temporary directory that done removes.
func (t Tree) Open(ctx context.Context) (dir string, done func() error, err error) {
	if t.ID == "" {
		return "", nil, fmt.Errorf("open the files of %s: not a git checkout, there are no tracked files", t.Dir)
	}
	for n := range treeSlots {
		slot := filepath.Join(t.gitDir, "slipway-trees", fmt.Sprint(n))
		if err := os.MkdirAll(slot, 0o755); err != nil {
			break // extract instead
		}
		unlock, ok, err := tryLock(filepath.Join(slot, "lock"))
		if err != nil {
			break // extract instead
		}
		if !ok {
			continue
		}
		if err := t.sync(ctx, slot); err != nil {
			return "", nil, errors.Join(fmt.Errorf("open the files of tree %s in %s: %w", t.ID, slot, err), unlock())
		}
		return filepath.Join(slot, "tree", filepath.FromSlash(t.Prefix)), unlock, nil
	}
	tmp, err := os.MkdirTemp("", "slipway-tree-")
	if err != nil {
		return "", nil, fmt.Errorf("open the files of tree %s: %w", t.ID, err)
	}
	remove := func() error { return os.RemoveAll(tmp) }
	if dir, err = t.Extract(ctx, tmp); err != nil {
		return "", nil, errors.Join(err, remove())
	}
	return dir, remove, nil
}

// sync makes slot/tree hold exactly the tree's files, with slot/index as
// its git index: read-tree updates the files that differ between the
// index and the tree, checkout-index rewrites any file changed since it
// was written (git's own test, by size and time), and clean removes
// whatever else is there. A slot git cannot bring up to date is emptied
// and filled again.
func (t Tree) sync(ctx context.Context, slot string) error {
	work := filepath.Join(slot, "tree")
	env := []string{"GIT_DIR=" + t.gitDir, "GIT_WORK_TREE=" + work, "GIT_INDEX_FILE=" + filepath.Join(slot, "index")}
	steps := [][]string{
		{"-c", "core.sparseCheckout=false", "read-tree", "--reset", "-u", t.ID},
		{"checkout-index", "--all", "--force", "--quiet"},
		{"clean", "-ffdxq"},
	}
	run := func() error {
		if err := os.MkdirAll(work, 0o755); err != nil {
			return err
		}
		for _, args := range steps {
			if _, err := gitEnv(ctx, work, env, args...); err != nil {
				return err
			}
		}
		return nil
	}
	err := run()
	if err == nil || ctx.Err() != nil {
		return err
	}
	if rmErr := errors.Join(os.RemoveAll(work), os.Remove(filepath.Join(slot, "index"))); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
		return errors.Join(err, rmErr)
	}
	return run()
}
