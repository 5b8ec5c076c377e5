package local

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/jackc/pgx/v5"

	"github.com/slipway/slipway/internal/database"
	"github.com/slipway/slipway/internal/deploy"
)

// The local target's deploy.Databases: the app's Postgres server
// (database.go), administered with package database, and migrations run as
// one-off containers of the app's image on the app's network (dbflow_run.go).
//
// Role passwords are derived from the server's superuser password (kept on
// the data volume) with HMAC-SHA256 and the role's name: the same role
// always gets the same password, so a re-deployed stack keeps its
// DATABASE_URL and production's does not change between releases, and
// nothing is stored. Knowing one role's password tells nothing of another.

// ensureDatabase starts the database server when the database is on.
func (p *Provider) ensureDatabase(ctx context.Context) error {
	if p.o.DatabaseImage == "" {
		return nil
	}
	_, err := p.EnsureDatabaseServer(ctx, p.o.DatabaseImage)
	return err
}

// dbHandle is the running server, opened for one operation.
type dbHandle struct {
	a      *database.Admin
	secret string // the superuser's password, for deriving role passwords
	server DatabaseServer
}

// dbAdmin starts (or finds) the server and opens an admin connection.
func (p *Provider) dbAdmin(ctx context.Context) (*database.Admin, string, error) {
	h, err := p.dbOpen(ctx)
	if err != nil {
		return nil, "", err
	}
	return h.a, h.secret, nil
}

func (p *Provider) dbOpen(ctx context.Context) (dbHandle, error) {
	if p.o.DatabaseImage == "" {
		return dbHandle{}, fmt.Errorf("the database is off for %s: set SLIPWAY_DATABASE=1", p.o.App)
	}
	s, err := p.ensureDBServer(ctx, p.o.DatabaseImage)
	if err != nil {
		return dbHandle{}, err
	}
	return dbHandle{a: s.admin, secret: s.password, server: s.DatabaseServer}, nil
}

// rolePassword is role's password, derived from the server's secret.
func rolePassword(secret, role string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("slipway database role " + role))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// EnsurePreviewDatabase implements deploy.Databases.
func (p *Provider) EnsurePreviewDatabase(ctx context.Context, pr int) (deploy.PreviewDatabase, error) {
	h, err := p.dbOpen(ctx)
	if err != nil {
		return deploy.PreviewDatabase{}, err
	}
	// The clone comes from the newest published golden database, which
	// no session uses (database.Admin.PublishGolden): no lock is needed
	// against a refresh in this or another process.
	db, err := h.a.EnsurePreview(ctx, p.o.App, pr, rolePassword(h.secret, database.PreviewName(p.o.App, pr)))
	if err != nil {
		return deploy.PreviewDatabase{}, err
	}
	return deploy.PreviewDatabase{Name: db.Database, Cloned: db.Cloned, From: db.From, URL: db.URL}, nil
}

// dbRunning says whether the server container exists, so dropping and
// listing never start a server just to find it empty.
func (p *Provider) dbRunning(ctx context.Context) (bool, error) {
	if p.o.DatabaseImage == "" {
		return false, nil
	}
	_, err := p.d.ContainerInspect(ctx, p.dbName())
	switch {
	case cerrdefs.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("inspect database server %s: %w", p.dbName(), err)
	}
	return true, nil
}

// DropPreviewDatabase implements deploy.Databases. Without a server there
// is nothing to drop.
func (p *Provider) DropPreviewDatabase(ctx context.Context, pr int) error {
	if ok, err := p.dbRunning(ctx); !ok {
		return err
	}
	a, _, err := p.dbAdmin(ctx)
	if err != nil {
		return err
	}
	return a.DropPreview(ctx, p.o.App, pr)
}

// PreviewDatabases implements deploy.Databases.
func (p *Provider) PreviewDatabases(ctx context.Context) ([]int, error) {
	if ok, err := p.dbRunning(ctx); !ok {
		return nil, err
	}
	a, _, err := p.dbAdmin(ctx)
	if err != nil {
		return nil, err
	}
	return a.ListPreviews(ctx, p.o.App)
}

// ProductionDatabase implements deploy.Databases.
func (p *Provider) ProductionDatabase(ctx context.Context) (deploy.SecretURL, error) {
	a, secret, err := p.dbAdmin(ctx)
	if err != nil {
		return nil, err
	}
	return a.EnsureProduction(ctx, p.o.App, rolePassword(secret, database.ProductionName(p.o.App)))
}

// RefreshGolden implements deploy.Databases: a new golden database is
// built beside the one previews clone from, migrated to image's head,
// seeded and only then published; superseded ones are dropped.
func (p *Provider) RefreshGolden(ctx context.Context, image, release string) (deploy.MigrateResult, error) {
	h, err := p.dbOpen(ctx)
	if err != nil {
		return deploy.MigrateResult{}, err
	}
	u, err := h.a.BuildGolden(ctx, p.o.App, rolePassword(h.secret, database.GoldenName(p.o.App)))
	if err != nil {
		return deploy.MigrateResult{}, err
	}
	res, err := p.Migrate(ctx, image, u, false)
	if err != nil {
		return res, err
	}
	if _, err := p.runOnce(ctx, image, []string{"seed"}, u); err != nil {
		return res, fmt.Errorf("seed the golden database: %w", err)
	}
	dropped, err := h.a.PublishGolden(ctx, p.o.App, u.Database(), release)
	for _, d := range dropped {
		p.logf("database: dropped the superseded golden database %s", d)
	}
	return res, err
}

// withSchema reads what schema a stack's image needs from the image's
// labels, which its containers carry. A label it cannot read is said, and
// the stack then names no contract migration.
func (p *Provider) withSchema(st *deploy.Stack, in instance) {
	st.Image = in.Labels[LabelImage]
	st.SchemaHead, _ = strconv.ParseInt(in.Labels[deploy.LabelSchemaHead], 10, 64) // absent: 0, the image says nothing
	st.SchemaMin, _ = strconv.ParseInt(in.Labels[deploy.LabelSchemaMin], 10, 64)   // absent: 0
	cs, err := deploy.ParseContracts(in.Labels[deploy.LabelSchemaContracts])
	if err != nil {
		p.logf("%s: warning: %v", st.Name, err)
	}
	st.Contracts = cs
}

// Schema implements deploy.Databases: the newest applied version in
// goose's table (the sample app migrates with goose), read as the
// superuser through the published port; 0 when never migrated.
func (p *Provider) Schema(ctx context.Context, db deploy.SecretURL) (int64, error) {
	h, err := p.dbOpen(ctx)
	if err != nil {
		return 0, err
	}
	conn, err := h.superuser(ctx, db.Database())
	if err != nil {
		return 0, err
	}
	defer func() { _ = conn.Close(ctx) }() // closing a session loses nothing
	var table *string
	if err := conn.QueryRow(ctx, "SELECT to_regclass('public.goose_db_version')::text").Scan(&table); err != nil {
		return 0, fmt.Errorf("read the schema version of %s: %w", db.Database(), err)
	}
	if table == nil {
		return 0, nil
	}
	var v int64
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version_id), 0) FROM public.goose_db_version WHERE is_applied").Scan(&v); err != nil {
		return 0, fmt.Errorf("read the schema version of %s: %w", db.Database(), err)
	}
	return v, nil
}

// The release a golden database was built by is kept as the database's
// comment (COMMENT ON DATABASE), and copied onto each preview cloned from
// it: the server is the state.

// superuser opens a superuser session on database db through the
// published port.
func (h dbHandle) superuser(ctx context.Context, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(h.server.Admin.Reveal())
	if err != nil {
		return nil, fmt.Errorf("parse the admin database URL: %w", err)
	}
	cfg.Database = db
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database %s: %w", db, err)
	}
	return conn, nil
}

// dbSession opens a superuser session on database db of the running
// server, with fewer round trips than dbOpen: it neither starts the server
// nor waits for it (a server that is not running is an error).
func (p *Provider) dbSession(ctx context.Context, db string) (*pgx.Conn, error) {
	secret, err := p.dbPassword(ctx)
	if err != nil {
		return nil, err
	}
	s, err := p.dbServer(ctx, secret)
	if err != nil {
		return nil, err
	}
	return dbHandle{server: s}.superuser(ctx, db)
}
