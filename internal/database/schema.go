package database

import (
	"context"
	"fmt"
	"strconv"
)

// The schema a database is migrated to, read as the admin from goose's
// table public.goose_db_version (the sample app migrates with goose).

// SchemaVersion is the newest applied migration in goose's table of
// database db, read as the admin; 0 when never migrated.
func (a *Admin) SchemaVersion(ctx context.Context, db string) (int64, error) {
	var v int64
	err := a.with(ctx, db, func(s Session) error {
		_, ok, err := one(ctx, s, "SELECT to_regclass('public.goose_db_version')::text")
		if err != nil || !ok {
			return err
		}
		text, _, err := one(ctx, s, "SELECT coalesce(max(version_id), 0)::text FROM public.goose_db_version WHERE is_applied")
		if err != nil {
			return err
		}
		v, err = strconv.ParseInt(text, 10, 64)
		return err
	})
	return v, err
}

// AtHead says whether database db is migrated exactly to head, so that a
// migrate run of an image whose head is head would find nothing to do:
// goose's table has versions 1 to head applied, each once, none rolled
// back. Anything else (versions with gaps such as timestamps, a rollback,
// no goose table) is false, and the migrate run decides.
func (a *Admin) AtHead(ctx context.Context, db string, head int64) (bool, error) {
	if head <= 0 {
		return false, nil
	}
	var at bool
	err := a.with(ctx, db, func(s Session) error {
		_, ok, err := one(ctx, s, "SELECT to_regclass('public.goose_db_version')::text")
		if err != nil || !ok {
			return err
		}
		rows, err := s.Query(ctx, `SELECT count(*) FILTER (WHERE NOT is_applied)::text,
	count(DISTINCT version_id) FILTER (WHERE is_applied AND version_id > 0)::text,
	coalesce(max(version_id) FILTER (WHERE is_applied), 0)::text
FROM public.goose_db_version`)
		if err != nil {
			return err
		}
		if len(rows) != 1 || len(rows[0]) != 3 {
			return fmt.Errorf("goose's table answered %d rows", len(rows))
		}
		var n [3]int64
		for i, c := range rows[0] {
			if c == nil {
				return fmt.Errorf("goose's table answered NULL")
			}
			if n[i], err = strconv.ParseInt(*c, 10, 64); err != nil {
				return err
			}
		}
		undone, versions, top := n[0], n[1], n[2]
		at = undone == 0 && versions == head && top == head
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("read the schema version of %s: %w", db, err)
	}
	return at, nil
}
