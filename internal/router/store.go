package router

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// tableFile is the table's file name in the state directory.
const tableFile = "table.json"

// store saves the table so that a restarted router serves the same routes.
type store struct{ dir string }

func openStore(dir string) (*store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	return &store{dir: dir}, nil
}

func (s *store) path() string { return filepath.Join(s.dir, tableFile) }

// load reads the saved table; ok is false when none was saved yet.
func (s *store) load() (t Table, ok bool, err error) {
	b, err := os.ReadFile(s.path())
	if errors.Is(err, fs.ErrNotExist) {
		return Table{}, false, nil
	}
	if err != nil {
		return Table{}, false, fmt.Errorf("read saved table: %w", err)
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return Table{}, false, fmt.Errorf("decode saved table %s: %w (fix or delete the file)", s.path(), err)
	}
	return t, true, nil
}

// save writes t to a temporary file, syncs it and renames it over the
// table, then syncs the directory, so a crash leaves the old or the new
// table, never a torn one.
func (s *store) save(t Table) (err error) {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("encode table: %w", err)
	}
	f, err := os.CreateTemp(s.dir, ".table-*.json")
	if err != nil {
		return fmt.Errorf("create temp table file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name()) // best effort: the error being returned matters more
		}
	}()
	if _, err := f.Write(append(b, '\n')); err != nil {
		_ = f.Close()
		return fmt.Errorf("write temp table file: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync temp table file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close temp table file: %w", err)
	}
	if err := os.Rename(f.Name(), s.path()); err != nil {
		return fmt.Errorf("rename temp table file: %w", err)
	}
	return syncDir(s.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open state dir: %w", err)
	}
	if err := d.Sync(); err != nil {
		_ = d.Close()
		return fmt.Errorf("sync state dir: %w", err)
	}
	if err := d.Close(); err != nil {
		return fmt.Errorf("close state dir: %w", err)
	}
	return nil
}
