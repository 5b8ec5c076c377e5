package deploy

import (
	"context"

	"github.com/slipway/slipway/internal/database"
)

// DatabaseServer is a target's part of the database flow (issue 11): the
// app's Postgres server and the few things the targets do differently
// around it. The algorithm (golden build and publish, preview clone,
// migrate, schema read, contract hold) is Databases', written once over
// these primitives. Used when the database is on (Flow.Database).
type DatabaseServer interface {
	// OpenDatabaseAdmin opens the admin of the app's Postgres server
	// (local: the <app>-db container through pgx, started when missing;
	// aws: the shared stack's cluster through the RDS Data API). With
	// start false a server that was never started stays so, and the
	// answer is nil with no error: there is nothing on it to list or drop.
	OpenDatabaseAdmin(ctx context.Context, start bool) (DatabaseAdmin, error)
	// DatabasePassword is the password db's role is given. A target gives
	// the same one each time where it can, so a re-deploy keeps its URL
	// (local: derived from the server's secret, nothing stored; aws: the
	// one in db's secret, or a new one).
	DatabasePassword(ctx context.Context, db DatabaseID) (string, error)
	// KeepDatabaseURL keeps u, db's URL, where db's stacks and one-off
	// runs read it, and returns the URL they are given (local: u itself,
	// nothing is kept; aws: a secret, which it tags with from, the release
	// whose golden copy a preview was cloned from).
	KeepDatabaseURL(ctx context.Context, db DatabaseID, u database.URL, from string) (SecretURL, error)
	// ForgetDatabaseURL removes what KeepDatabaseURL kept for db, which
	// was dropped; nothing kept is fine.
	ForgetDatabaseURL(ctx context.Context, db DatabaseID) error
	// RunOnce runs image once as run says (its entrypoint, arguments and
	// environment: the sample app's `migrate`, `seed` and `schema`, or
	// slipway.yaml's commands, see DatabaseCommands) with DATABASE_URL=db
	// where the app's stacks run, waits (bounded) and returns what it
	// printed, db's URL and password taken out. A non-zero exit is a
	// *MigrationError with the output's last lines.
	RunOnce(ctx context.Context, image string, run OneOff, db SecretURL) (string, error)
	// ImageSchemaHead is the schema image's label dev.slipway.schema.head
	// names (LabelSchemaHead); 0 when the image or the target does not
	// say (the aws target reads no image labels), and migrate then runs.
	ImageSchemaHead(ctx context.Context, image string) (int64, error)
	// PreviewDatabase is how a preview deploy gets pull request pr's
	// database: create makes it (Databases.CreatePreview). A target whose
	// preview deploys may not administer databases (aws: the preview role,
	// the trust split) uses the one a trusted step made instead.
	PreviewDatabase(ctx context.Context, pr int, create func(context.Context) (PreviewDatabase, error)) (PreviewDatabase, error)
}

// DatabaseAdmin is the part of database.Admin the database flow calls:
// the same statements on every target, through its SQL executor.
type DatabaseAdmin interface {
	EnsureProduction(ctx context.Context, app, password string) (database.URL, error)
	BuildGolden(ctx context.Context, app, password string) (database.URL, error)
	PublishGolden(ctx context.Context, app, db, release string) ([]string, error)
	EnsurePreview(ctx context.Context, app string, pr int, password string) (database.Preview, error)
	DropPreview(ctx context.Context, app string, pr int) error
	ListPreviews(ctx context.Context, app string) ([]int, error)
	SchemaVersion(ctx context.Context, db string) (int64, error)
	AtHead(ctx context.Context, db string, head int64) (bool, error)
}

var _ DatabaseAdmin = (*database.Admin)(nil)

// RoleGolden names the golden database in a DatabaseID.
const RoleGolden = "golden"

// DatabaseID names one of the app's databases to a target's primitives:
// production's, the golden copy previews are cloned from, or a pull
// request's.
type DatabaseID struct {
	Role string // RoleProduction, RoleGolden or RolePreview
	PR   int    // RolePreview's pull request
}

// RoleName is the Postgres role (and, but for the versioned golden
// copies, the database) of id in app.
func (id DatabaseID) RoleName(app string) string {
	switch id.Role {
	case RoleGolden:
		return database.GoldenName(app)
	case RolePreview:
		return database.PreviewName(app, id.PR)
	}
	return database.ProductionName(app)
}
