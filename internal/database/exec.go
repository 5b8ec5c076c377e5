package database

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// The SQL seam: Admin's statements run through an Executor, a pgx
// connection locally (PgxExecutor) and the RDS Data API on AWS (package
// awsprov). Every statement runs alone and commits by itself (no
// transaction: CREATE DATABASE refuses one), and nothing may rely on
// session state between statements, because the Data API has no session.

// Arg is a named parameter, written @Name in a statement.
type Arg struct{ Name, Value string }

// Session runs statements on one database of the server.
type Session interface {
	// Query runs one statement with args and returns its rows; every
	// column must be text (cast it: ::text), nil is NULL.
	Query(ctx context.Context, sql string, args ...Arg) ([][]*string, error)
	// Close releases the session.
	Close(ctx context.Context) error
}

// Executor opens sessions on the databases of one server as its admin.
type Executor interface {
	Open(ctx context.Context, db string) (Session, error)
}

// ErrStillRunning is a statement the executor stopped waiting for while
// the server goes on with it (the RDS Data API answers after 45 s; with
// continueAfterTimeout the statement runs to its end). Running it again
// would collide with it: wait for what it makes instead.
var ErrStillRunning = errors.New("the server goes on running the statement after the client stopped waiting")

// SQLError is a statement the server refused, with its SQLSTATE, however
// the executor reached the server.
type SQLError struct {
	Code    string // SQLSTATE, e.g. 55006
	Message string
}

func (e *SQLError) Error() string { return fmt.Sprintf("%s (SQLSTATE %s)", e.Message, e.Code) }

// sqlState is err's SQLSTATE ("" when the server did not refuse it).
func sqlState(err error) string {
	var e *SQLError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// SQLSTATEs the admin reacts to.
const (
	stateObjectInUse    = "55006" // source database is being accessed by other users
	stateNoDatabase     = "3D000" // database does not exist
	stateDuplicateDB    = "42P04" // database already exists
	stateDuplicateRole  = "42710" // role already exists
	stateUndefinedTable = "42P01"
)

// PgxExecutor runs statements through pgx connections made from an admin
// URL; a Session is one connection.
type PgxExecutor struct{ cfg *pgx.ConnConfig }

// NewPgxExecutor parses adminDSN (a superuser's URL).
func NewPgxExecutor(adminDSN string) (*PgxExecutor, error) {
	cfg, err := pgx.ParseConfig(adminDSN)
	if err != nil {
		return nil, fmt.Errorf("parse the admin database URL: %w", err)
	}
	return &PgxExecutor{cfg: cfg}, nil
}

// Open connects to db ("" for the admin URL's own database).
func (x *PgxExecutor) Open(ctx context.Context, db string) (Session, error) {
	cfg := x.cfg.Copy()
	if db != "" {
		cfg.Database = db
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to Postgres at %s as %s: %w", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), cfg.User, pgxError(err))
	}
	return pgxSession{conn}, nil
}

type pgxSession struct{ conn *pgx.Conn }

func (s pgxSession) Close(ctx context.Context) error { return s.conn.Close(ctx) }

// Query runs sql with the extended protocol (parameters travel apart from
// the statement), or the simple one when there are none: both autocommit.
func (s pgxSession) Query(ctx context.Context, sql string, args ...Arg) ([][]*string, error) {
	if len(args) == 0 {
		return s.simple(ctx, sql)
	}
	named := pgx.NamedArgs{}
	for _, a := range args {
		named[a.Name] = a.Value
	}
	rows, err := s.conn.Query(ctx, sql, named)
	if err != nil {
		return nil, pgxError(err)
	}
	defer rows.Close()
	for _, f := range rows.FieldDescriptions() {
		if f.DataTypeOID != pgtype.TextOID {
			return nil, fmt.Errorf("column %s of %q is not text: cast it (::text)", f.Name, sql)
		}
	}
	var out [][]*string
	for rows.Next() {
		out = append(out, textRow(rows.RawValues()))
	}
	return out, pgxError(rows.Err())
}

func (s pgxSession) simple(ctx context.Context, sql string) ([][]*string, error) {
	res, err := s.conn.PgConn().Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, pgxError(err)
	}
	var out [][]*string
	for _, r := range res {
		for _, row := range r.Rows {
			out = append(out, textRow(row))
		}
	}
	return out, nil
}

// textRow copies raw text (or binary text, the same bytes) values.
func textRow(raw [][]byte) []*string {
	row := make([]*string, len(raw))
	for i, v := range raw {
		if v != nil {
			s := string(v)
			row[i] = &s
		}
	}
	return row
}

// pgxError turns a server's refusal into a *SQLError.
func pgxError(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return &SQLError{Code: pg.Code, Message: pg.Message}
	}
	return err
}

// run runs statements that return nothing, in order, on s.
func run(ctx context.Context, s Session, stmts ...string) error {
	for _, st := range stmts {
		if _, err := s.Query(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// one returns the first column of the only row of sql ("" and false when
// there is no row or it is NULL).
func one(ctx context.Context, s Session, sql string, args ...Arg) (string, bool, error) {
	rows, err := s.Query(ctx, sql, args...)
	if err != nil || len(rows) == 0 || len(rows[0]) == 0 || rows[0][0] == nil {
		return "", false, err
	}
	return *rows[0][0], true, nil
}
