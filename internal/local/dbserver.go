package local

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/slipway/slipway/internal/database"
	"github.com/slipway/slipway/internal/deploy"
)

// The local target's deploy.DatabaseServer, the primitives of the database
// flow (package deploy holds the algorithm): the app's Postgres server
// (database.go), administered with package database through pgx, and
// one-off runs of the app's image as containers on the app's network
// (dbrun.go).
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

// OpenDatabaseAdmin implements deploy.DatabaseServer: the server started
// (or found) and an admin connected to it. With start false a server
// whose container does not exist is not started: nil.
func (p *Provider) OpenDatabaseAdmin(ctx context.Context, start bool) (deploy.DatabaseAdmin, error) {
	if !start {
		if ok, err := p.dbRunning(ctx); !ok {
			return nil, err
		}
	}
	if p.o.DatabaseImage == "" {
		return nil, fmt.Errorf("the database is off for %s: set SLIPWAY_DATABASE=1", p.o.App)
	}
	s, err := p.ensureDBServer(ctx, p.o.DatabaseImage)
	if err != nil {
		return nil, err
	}
	return s.admin, nil
}

// DatabasePassword implements deploy.DatabaseServer: derived from the
// server's secret and the role's name, the same every time.
func (p *Provider) DatabasePassword(ctx context.Context, db deploy.DatabaseID) (string, error) {
	secret, err := p.dbPassword(ctx)
	if err != nil {
		return "", err
	}
	return rolePassword(secret, db.RoleName(p.o.App)), nil
}

// rolePassword is role's password, derived from the server's secret.
func rolePassword(secret, role string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("slipway database role " + role))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// KeepDatabaseURL implements deploy.DatabaseServer: nothing is kept, a
// stack gets the URL in its environment and the password is derived
// again next time.
func (p *Provider) KeepDatabaseURL(_ context.Context, _ deploy.DatabaseID, u database.URL, _ string) (deploy.SecretURL, error) {
	return u, nil
}

// ForgetDatabaseURL implements deploy.DatabaseServer: nothing was kept.
func (p *Provider) ForgetDatabaseURL(context.Context, deploy.DatabaseID) error { return nil }

// PreviewDatabase implements deploy.DatabaseServer: a preview deploy
// creates its own database (whoever runs the local target administers
// its server).
func (p *Provider) PreviewDatabase(ctx context.Context, _ int, create func(context.Context) (deploy.PreviewDatabase, error)) (deploy.PreviewDatabase, error) {
	return create(ctx)
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
