package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Idle connections close after this long and the pool keeps none open, so
// an Aurora Serverless v2 cluster with a 0 ACU minimum can pause.
const (
	maxConnIdle = 30 * time.Second
	maxConns    = 4
)

func parseConfig(dsn string) (*pgxpool.Config, error) {
	if dsn == "" {
		return nil, errNoURL
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors can quote the URL, password included.
		return nil, fmt.Errorf("parse DATABASE_URL: not a valid Postgres URL (postgres://user:password@host:5432/db)")
	}
	cfg.MinConns = 0
	cfg.MaxConns = maxConns
	cfg.MaxConnIdleTime = maxConnIdle
	cfg.HealthCheckPeriod = maxConnIdle / 2
	return cfg, nil
}

// Store is the app's data in one environment's database.
type Store struct{ pool *pgxpool.Pool }

// Note is one note.
type Note struct {
	ID      int64     `json:"id"`
	Body    string    `json:"body"`
	Created time.Time `json:"created"`
}

// Open returns a Store on the database at dsn. It does not connect until
// first used, so the app starts while the database is paused or starting.
func Open(dsn string) (*Store, error) {
	cfg, err := parseConfig(dsn)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Visit counts one visit and returns the count.
func (s *Store) Visit(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `INSERT INTO counters (name, value) VALUES ('visits', 1)
ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count visit: %w", err)
	}
	return n, nil
}

// maxNote bounds a note's length.
const maxNote = 500

// AddNote stores a note.
func (s *Store) AddNote(ctx context.Context, body string) (Note, error) {
	if body == "" || len(body) > maxNote {
		return Note{}, fmt.Errorf("add note: a note has 1 to %d bytes", maxNote)
	}
	var n Note
	err := s.pool.QueryRow(ctx, "INSERT INTO notes (body) VALUES ($1) RETURNING id, body, created_at", body).Scan(&n.ID, &n.Body, &n.Created)
	if err != nil {
		return Note{}, fmt.Errorf("add note: %w", err)
	}
	return n, nil
}

// Notes returns the newest limit notes, newest first.
func (s *Store) Notes(ctx context.Context, limit int) ([]Note, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, body, created_at FROM notes ORDER BY id DESC LIMIT $1", limit)
	if err != nil {
		return nil, fmt.Errorf("list notes: %w", err)
	}
	notes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Note, error) {
		var n Note
		err := r.Scan(&n.ID, &n.Body, &n.Created)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("list notes: %w", err)
	}
	return notes, nil
}

// SchemaVersion returns the database's schema version (0 before the first
// migration).
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var migrated bool
	if err := s.pool.QueryRow(ctx, "SELECT to_regclass('goose_db_version') IS NOT NULL").Scan(&migrated); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if !migrated {
		return 0, nil
	}
	var v int64
	if err := s.pool.QueryRow(ctx, "SELECT COALESCE(max(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// seedNote is the note Seed writes.
const seedNote = "Seeded by the sample app: every environment starts with this note."

// Seed writes the sample data into a migrated database: the welcome note,
// once (running it again adds nothing).
func Seed(ctx context.Context, dsn string) error {
	s, err := Open(dsn)
	if err != nil {
		return err
	}
	defer s.Close()
	_, err = s.pool.Exec(ctx, "INSERT INTO notes (body) SELECT $1::text WHERE NOT EXISTS (SELECT 1 FROM notes WHERE body = $1::text)", seedNote)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}
