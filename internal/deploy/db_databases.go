package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Databases is the database flow on one target's server, written once for
// every target: the production database, the golden copy previews are
// cloned from (built beside the one in use, migrated, seeded, then
// published), one database per preview, migrations and the schema read.
// The target supplies the primitives (DatabaseServer); the SQL is package
// database's. Flow.Databases returns the flow's own.
type Databases struct {
	Server   DatabaseServer
	App      string
	Log      io.Writer        // progress, one line per event
	Commands DatabaseCommands // the app's migrate and seed commands
}

// Databases is the database flow on the flow's target, with the migrate
// and seed commands of the app's slipway.yaml.
func (f *Flow) Databases() Databases {
	d := Databases{Server: f.Target, App: f.App, Log: f.Log}
	if f.Manifest != nil && f.Manifest.Database != nil {
		d.Commands = DatabaseCommands{Migrate: f.Manifest.Database.Migrate, Seed: f.Manifest.Database.Seed}
	}
	return d
}

func (d Databases) logf(format string, a ...any) {
	if d.Log != nil {
		fmt.Fprintf(d.Log, format+"\n", a...)
	}
}

// admin opens the server's admin, starting the server when it is not
// running.
func (d Databases) admin(ctx context.Context) (DatabaseAdmin, error) {
	a, err := d.Server.OpenDatabaseAdmin(ctx, true)
	if err == nil && a == nil {
		err = fmt.Errorf("the database server of %s did not start", d.App)
	}
	return a, err
}

// EnsurePreview gives pull request pr its database for a preview deploy:
// CreatePreview's, or where the deploy may not administer databases (the
// aws preview role) the one a trusted step made (DatabaseServer). The same
// pr always gets the same URL, so a re-deploy changes nothing.
func (d Databases) EnsurePreview(ctx context.Context, pr int) (PreviewDatabase, error) {
	return d.Server.PreviewDatabase(ctx, pr, func(ctx context.Context) (PreviewDatabase, error) {
		return d.CreatePreview(ctx, pr)
	})
}

// CreatePreview clones pull request pr's database from the newest
// published golden one when it does not exist yet (an existing one keeps
// its data), with a role that reaches only it, and keeps its URL where the
// preview reads it. The clone comes from a golden database no session
// uses (database.Admin.PublishGolden): no lock is needed against a
// refresh in this or another process. This is what `preview:database`
// runs on aws: it never falls back to a database made elsewhere.
func (d Databases) CreatePreview(ctx context.Context, pr int) (PreviewDatabase, error) {
	a, err := d.admin(ctx)
	if err != nil {
		return PreviewDatabase{}, err
	}
	id := DatabaseID{Role: RolePreview, PR: pr}
	pw, err := d.Server.DatabasePassword(ctx, id)
	if err != nil {
		return PreviewDatabase{}, err
	}
	db, err := a.EnsurePreview(ctx, d.App, pr, pw)
	if err != nil {
		return PreviewDatabase{}, err
	}
	u, err := d.Server.KeepDatabaseURL(ctx, id, db.URL, db.From)
	if err != nil {
		return PreviewDatabase{}, err
	}
	return PreviewDatabase{Name: db.Database, Cloned: db.Cloned, From: db.From, URL: u}, nil
}

// DropPreview drops pull request pr's database and role, and forgets its
// URL; gone already is fine. A server that was never started is not
// started for it.
func (d Databases) DropPreview(ctx context.Context, pr int) error {
	a, err := d.Server.OpenDatabaseAdmin(ctx, false)
	if err != nil || a == nil {
		return err
	}
	if err := a.DropPreview(ctx, d.App, pr); err != nil {
		return err
	}
	return d.Server.ForgetDatabaseURL(ctx, DatabaseID{Role: RolePreview, PR: pr})
}

// Previews lists the PRs that have a database, in order. A server that
// was never started is not started for it.
func (d Databases) Previews(ctx context.Context) ([]int, error) {
	a, err := d.Server.OpenDatabaseAdmin(ctx, false)
	if err != nil || a == nil {
		return nil, err
	}
	return a.ListPreviews(ctx, d.App)
}

// Production ensures the production database and returns its URL, the
// same between releases, so blue and green stacks share it.
func (d Databases) Production(ctx context.Context) (SecretURL, error) {
	a, err := d.admin(ctx)
	if err != nil {
		return nil, err
	}
	id := DatabaseID{Role: RoleProduction}
	pw, err := d.Server.DatabasePassword(ctx, id)
	if err != nil {
		return nil, err
	}
	u, err := a.EnsureProduction(ctx, d.App, pw)
	if err != nil {
		return nil, err
	}
	return d.Server.KeepDatabaseURL(ctx, id, u, "")
}

// RefreshGolden builds a new golden database beside the one previews
// clone from and finishes it with image (FinishGolden).
func (d Databases) RefreshGolden(ctx context.Context, image, release string) (MigrateResult, error) {
	g, err := d.BuildGolden(ctx)
	if err != nil {
		return MigrateResult{}, err
	}
	return d.FinishGolden(ctx, image, g, release)
}

// BuildGolden creates a new, empty golden database beside the one
// previews clone from, which no preview clones until FinishGolden
// publishes it. A release checks its live stacks on it first.
func (d Databases) BuildGolden(ctx context.Context) (SecretURL, error) {
	a, err := d.admin(ctx)
	if err != nil {
		return nil, err
	}
	id := DatabaseID{Role: RoleGolden}
	pw, err := d.Server.DatabasePassword(ctx, id)
	if err != nil {
		return nil, err
	}
	u, err := a.BuildGolden(ctx, d.App, pw)
	if err != nil {
		return nil, err
	}
	return d.Server.KeepDatabaseURL(ctx, id, u, "")
}

// FinishGolden migrates the golden database g (BuildGolden's) with image
// (all of its migrations: no stack runs on it), seeds it, and only then
// publishes it as release's; superseded ones are dropped. Previews cloned
// from it say which release it came from.
func (d Databases) FinishGolden(ctx context.Context, image string, g SecretURL, release string) (MigrateResult, error) {
	a, err := d.admin(ctx)
	if err != nil {
		return MigrateResult{}, err
	}
	res, err := d.Migrate(ctx, image, g, false)
	if err != nil {
		return res, err
	}
	if seed, ok := d.Commands.seed(); ok {
		if _, err := d.Server.RunOnce(ctx, image, seed, g); err != nil {
			return res, fmt.Errorf("seed the golden database: %w", err)
		}
	}
	dropped, err := a.PublishGolden(ctx, d.App, g.Database(), release)
	for _, name := range dropped {
		d.logf("database: dropped the superseded golden database %s", name)
	}
	return res, err
}

// MigrateTo runs image's migrate command once against db, stopping at
// version whatever the kinds (MigrateToCommand, or SLIPWAY_MIGRATE_TO).
func (d Databases) MigrateTo(ctx context.Context, image string, db SecretURL, version int64) (MigrateResult, error) {
	out, err := d.Server.RunOnce(ctx, image, d.Commands.migrate(false, version), db)
	if err != nil {
		return MigrateResult{}, err
	}
	return ParseMigrateOutput(out)
}

// ImageMigrations lists every migration image holds, in order, with its
// kind: what its `schema` command prints (the command the build reads the
// schema labels from), run once beside db, which it does not touch. Only
// the sample app has that command: an app with slipway.yaml's commands
// gets ErrNoMigrationList.
func (d Databases) ImageMigrations(ctx context.Context, image string, db SecretURL) ([]Migration, error) {
	if d.Commands.generic() {
		return nil, ErrNoMigrationList
	}
	out, err := d.Server.RunOnce(ctx, image, OneOff{Name: "schema", Args: []string{"schema"}}, db)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	var s struct {
		Migrations []Migration `json:"migrations"`
	}
	if err := json.Unmarshal([]byte(last), &s); err != nil {
		return nil, fmt.Errorf("read what schema printed (%q): %w", last, err)
	}
	sort.Slice(s.Migrations, func(i, j int) bool { return s.Migrations[i].Version < s.Migrations[j].Version })
	return s.Migrations, nil
}

// ErrNoMigrationList says an image lists its migrations by its labels only
// (its contract migrations): an app whose migrate command comes from
// slipway.yaml has no `schema` command.
var ErrNoMigrationList = errors.New("the image lists its contract migrations only (its labels): slipway.yaml's migrate command prints no list")

// Migrate runs image's migrate command once against db; expandOnly holds
// contract migrations. A database already at image's head (its label and
// db's goose versions 1..N agree) needs no run. A failed run returns the
// command's error output in a *MigrationError.
func (d Databases) Migrate(ctx context.Context, image string, db SecretURL, expandOnly bool) (MigrateResult, error) {
	if head, ok, err := d.atHead(ctx, image, db); err != nil {
		return MigrateResult{}, err
	} else if ok {
		d.logf("database %s: already at head %d, no migration to run", db.Database(), head)
		return MigrateResult{From: head, To: head}, nil
	}
	out, err := d.Server.RunOnce(ctx, image, d.Commands.migrate(expandOnly, 0), db)
	if err != nil {
		return MigrateResult{}, err
	}
	return ParseMigrateOutput(out)
}

// atHead says whether db is migrated exactly to the head image's label
// names, so that image's migrate would find nothing to run. An image
// whose head is not known asks nothing of the server.
func (d Databases) atHead(ctx context.Context, image string, db SecretURL) (int64, bool, error) {
	head, err := d.Server.ImageSchemaHead(ctx, image)
	if err != nil || head <= 0 {
		return 0, false, err
	}
	a, err := d.admin(ctx)
	if err != nil {
		return 0, false, err
	}
	ok, err := a.AtHead(ctx, db.Database(), head)
	return head, ok, err
}

// Schema is the version db is migrated to (0: never migrated).
func (d Databases) Schema(ctx context.Context, db SecretURL) (int64, error) {
	a, err := d.admin(ctx)
	if err != nil {
		return 0, err
	}
	v, err := a.SchemaVersion(ctx, db.Database())
	if err != nil {
		return 0, fmt.Errorf("read the schema version of %s: %w", db.Database(), err)
	}
	return v, nil
}
