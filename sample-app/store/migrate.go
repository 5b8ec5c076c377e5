// Package store is the sample app's optional Postgres storage: a visit
// counter and notes, its migrations (goose, embedded), and its seed.
//
// Each migration file says on its first line whether it expands the schema
// (additive: the previous release still runs on the result) or contracts it
// (removes or renames what an older release needs): "-- slipway:expand" or
// "-- slipway:contract". Slipway applies only expand migrations on release
// (MigrateOptions.ExpandOnly) and runs contract migrations from cleanup.
package store

import (
	"bufio"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// The schema of the migrations in this checkout, for tests that need a
// number (a test keeps them equal to Schema). Nothing else reads them: the
// image's labels come from the migration files (Slipway's build reads
// them), and the app's `schema` command and /version from Schema, so a new
// migration needs no constant bumped.
const (
	SchemaHead = 3
	MinSchema  = 2
)

// Schema is the schema this build needs, from its migrations: head, the
// newest, which migrate applies; min, the oldest schema it runs on (a
// database migrated to at least min and at most head): the version before
// the contract migrations at the end, head when the newest migration is
// an expand one. Slipway's build computes its labels the same way.
func Schema() (head, minV int64, err error) {
	ms, err := Migrations()
	if err != nil {
		return 0, 0, err
	}
	head = ms[len(ms)-1].Version
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Kind != Contract {
			return head, ms[i].Version, nil
		}
	}
	return head, 0, nil
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Kind is expand or contract.
type Kind string

// The kinds of migration.
const (
	Expand   Kind = "expand"
	Contract Kind = "contract"
)

// Migration is one embedded migration.
type Migration struct {
	Version int64  `json:"version"`
	Name    string `json:"name"`
	Kind    Kind   `json:"kind"`
}

func migrationsFS() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the directory is embedded: it is always there
	}
	return sub
}

// Migrations lists the embedded migrations in order with their kinds. A file
// without a kind marker is an error: guessing could drop a column a
// retained release still reads.
func Migrations() ([]Migration, error) {
	names, err := fs.Glob(migrationsFS(), "*.sql")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, name := range names {
		v, err := goose.NumericComponent(name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		kind, err := kindOf(migrationsFS(), name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: name, Kind: kind})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	if len(ms) == 0 {
		return nil, errors.New("read migrations: none embedded")
	}
	return ms, nil
}

// kindOf reads the "-- slipway:expand|contract" line of a migration.
func kindOf(fsys fs.FS, name string) (Kind, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return "", fmt.Errorf("read migration %s: %w", name, err)
	}
	defer func() { _ = f.Close() }() // read-only
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, ok := strings.CutPrefix(line, "-- slipway:"); ok {
			switch Kind(k) {
			case Expand, Contract:
				return Kind(k), nil
			}
			return "", fmt.Errorf("migration %s: unknown kind %q: write -- slipway:expand or -- slipway:contract", name, k)
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read migration %s: %w", name, err)
	}
	return "", fmt.Errorf("migration %s has no kind: add a line -- slipway:expand or -- slipway:contract", name)
}

// MigrateOptions say how far to migrate.
type MigrateOptions struct {
	// ExpandOnly stops before the first pending contract migration: what a
	// release applies to production while older stacks are retained.
	ExpandOnly bool
	// To stops at this version, whatever the kinds (0: the newest): how
	// Slipway brings a copy to production's schema before it checks a
	// release there.
	To  int64
	Log io.Writer // one line per applied migration
}

// MigrateResult says what Migrate did.
type MigrateResult struct {
	From, To int64       // schema version before and after
	Applied  []Migration // what this run applied, in order
	Held     []Migration // pending migrations not applied (ExpandOnly): the first contract and all after it
}

// Migrate applies the pending migrations to the database at dsn, holding a
// Postgres advisory lock so two runs never interleave.
func Migrate(ctx context.Context, dsn string, o MigrateOptions) (MigrateResult, error) {
	all, err := Migrations()
	if err != nil {
		return MigrateResult{}, err
	}
	db, p, err := provider(dsn)
	if err != nil {
		return MigrateResult{}, err
	}
	defer func() { _ = db.Close() }() // closing a pool loses nothing
	from, err := p.GetDBVersion(ctx)
	if err != nil {
		return MigrateResult{}, fmt.Errorf("read schema version: %w", err)
	}
	res := MigrateResult{From: from, To: from, Applied: []Migration{}, Held: []Migration{}}
	target := all[len(all)-1].Version
	if o.To > 0 {
		target = min(target, o.To)
	}
	if o.ExpandOnly {
		var held []Migration
		if t, h := expandTarget(all, from); t < target {
			target, held = t, h
		}
		res.Held = append(res.Held, held...)
	}
	if target <= from {
		return res, nil
	}
	applied, err := p.UpTo(ctx, target)
	for _, a := range applied {
		if a.Error != nil {
			continue
		}
		res.To = max(res.To, a.Source.Version)
		res.Applied = append(res.Applied, byVersion(all, a.Source.Version))
		if o.Log != nil {
			fmt.Fprintf(o.Log, "migrate: applied %s (%s)\n", a.Source.Path, a.Duration)
		}
	}
	if err != nil {
		return res, fmt.Errorf("migrate from %d to %d: %w", from, target, err)
	}
	return res, nil
}

// byVersion is the migration of version v in all.
func byVersion(all []Migration, v int64) Migration {
	for _, m := range all {
		if m.Version == v {
			return m
		}
	}
	return Migration{Version: v}
}

// expandTarget is the last version before the first pending contract
// migration, and the pending migrations from there on.
func expandTarget(all []Migration, from int64) (int64, []Migration) {
	target := from
	for i, m := range all {
		if m.Version <= from {
			continue
		}
		if m.Kind == Contract {
			return target, all[i:]
		}
		target = m.Version
	}
	return target, nil
}

// SchemaVersion returns the schema version of the database at dsn (0 when
// it was never migrated).
func SchemaVersion(ctx context.Context, dsn string) (int64, error) {
	db, p, err := provider(dsn)
	if err != nil {
		return 0, err
	}
	defer func() { _ = db.Close() }() // closing a pool loses nothing
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

func provider(dsn string) (*sql.DB, *goose.Provider, error) {
	cfg, err := parseConfig(dsn)
	if err != nil {
		return nil, nil, err
	}
	db := stdlib.OpenDB(*cfg.ConnConfig)
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("set up migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrationsFS(), goose.WithSessionLocker(locker))
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("read migrations: %w", err)
	}
	return db, p, nil
}

// errNoURL is returned when a database command runs without DATABASE_URL.
var errNoURL = errors.New("DATABASE_URL is not set: the migrate and seed commands need the database's URL")
