package database

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Versioned golden databases. A refresh never touches the golden copy
// previews clone from: it builds a new database <app>_golden_<version>
// (version: Unix milliseconds at its creation), the caller migrates and
// seeds it, and PublishGolden marks it complete (its comment names the
// release) and drops the goldens it supersedes. A clone takes the newest
// complete one. No session or lock is held between statements, so this
// works the same through the RDS Data API and in other processes: a clone
// never sees a golden copy being built, and Postgres makes a DROP of the
// copy a clone is reading wait for the clone (CREATE DATABASE holds the
// template's lock); a clone whose copy was dropped just before it starts
// fails with 3D000 and takes the newer one.

// originPrefix starts the comment of a complete golden database and of
// each preview cloned from one: "slipway release <release>".
const originPrefix = "slipway release "

// staleBuild is how old an unfinished golden build must be before a
// publish drops it: a younger one may be another release's build in
// progress.
const staleBuild = time.Hour

// goldenVersion returns the version of a versioned golden database name.
func goldenVersion(app, name string) (int64, bool) {
	rest, ok := strings.CutPrefix(name, GoldenName(app)+"_")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || v <= 0 || strconv.FormatInt(v, 10) != rest {
		return 0, false
	}
	return v, true
}

// golden is one versioned golden database.
type golden struct {
	name     string
	version  int64
	complete bool
	release  string
}

// goldens lists app's versioned golden databases, newest first.
func goldens(ctx context.Context, s Session, app string) ([]golden, error) {
	rows, err := s.Query(ctx, "SELECT datname::text, shobj_description(oid, 'pg_database')::text FROM pg_database WHERE starts_with(datname, @prefix)",
		Arg{"prefix", GoldenName(app) + "_"})
	if err != nil {
		return nil, fmt.Errorf("list golden databases of %s: %w", app, err)
	}
	var out []golden
	for _, r := range rows {
		if len(r) != 2 || r[0] == nil {
			continue
		}
		v, ok := goldenVersion(app, *r[0])
		if !ok {
			continue
		}
		g := golden{name: *r[0], version: v}
		if r[1] != nil {
			g.release, g.complete = strings.CutPrefix(*r[1], originPrefix)
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b golden) int { return cmp.Compare(b.version, a.version) })
	return out, nil
}

// newestGolden is the newest complete golden database (ok false: none).
func newestGolden(ctx context.Context, s Session, app string) (golden, bool, error) {
	gs, err := goldens(ctx, s, app)
	if err != nil {
		return golden{}, false, err
	}
	for _, g := range gs {
		if g.complete {
			return g, true, nil
		}
	}
	return golden{}, false, nil
}

// BuildGolden creates a new, empty golden database of app (versioned),
// reachable by the role <app>_golden (password) alone, which may create in
// its public schema. Migrate and seed it through the URL, then call
// PublishGolden; until then no preview is cloned from it. Its objects
// belong to that role, so a preview cloned from it can take them over.
func (a *Admin) BuildGolden(ctx context.Context, app, password string) (URL, error) {
	if err := checkApp(app); err != nil {
		return URL{}, err
	}
	role := GoldenName(app)
	var name string
	err := a.with(ctx, "", func(s Session) error {
		if err := ensureRole(ctx, s, role, password); err != nil {
			return err
		}
		v := time.Now().UnixMilli()
		for range 5 { // another build in the same millisecond takes the next
			name = GoldenName(app) + "_" + strconv.FormatInt(v, 10)
			err := run(ctx, s, "CREATE DATABASE "+ident(name))
			if sqlState(err) == stateDuplicateDB {
				v++
				continue
			}
			if err != nil {
				return fmt.Errorf("create golden database %s: %w", name, err)
			}
			return private(ctx, s, name, role)
		}
		return fmt.Errorf("create golden database %s: the name stayed taken", name)
	})
	if err != nil {
		return URL{}, err
	}
	if err := a.grantPublic(ctx, name, role); err != nil {
		return URL{}, err
	}
	return a.url(role, password, name), nil
}

// PublishGolden marks golden database db (from BuildGolden, migrated and
// seeded) complete, built by release, so new previews are cloned from it,
// and drops the golden databases it supersedes: older complete ones,
// older unfinished builds abandoned for staleBuild, and the unversioned
// <app>_golden of a server set up before goldens were versioned. It
// returns the names it dropped.
func (a *Admin) PublishGolden(ctx context.Context, app, db, release string) ([]string, error) {
	if err := checkApp(app); err != nil {
		return nil, err
	}
	v, ok := goldenVersion(app, db)
	if !ok {
		return nil, fmt.Errorf("publish golden database %q: not a golden database of %s (use the name BuildGolden returned)", db, app)
	}
	var dropped []string
	err := a.with(ctx, "", func(s Session) error {
		if err := comment(ctx, s, db, originPrefix+release); err != nil {
			return err
		}
		gs, err := goldens(ctx, s, app)
		if err != nil {
			return err
		}
		newest, _, err := newestGolden(ctx, s, app)
		if err != nil {
			return err
		}
		stale := time.Now().Add(-staleBuild).UnixMilli()
		for _, g := range gs {
			if g.version >= newest.version || g.version == v || (!g.complete && g.version > stale) {
				continue
			}
			if err := dropDatabase(ctx, s, g.name); err != nil {
				return fmt.Errorf("drop superseded golden database %s: %w", g.name, err)
			}
			dropped = append(dropped, g.name)
		}
		legacy, err := databaseExists(ctx, s, GoldenName(app))
		if err != nil || !legacy {
			return err
		}
		if err := dropDatabase(ctx, s, GoldenName(app)); err != nil {
			return fmt.Errorf("drop the unversioned golden database %s: %w", GoldenName(app), err)
		}
		dropped = append(dropped, GoldenName(app))
		return nil
	})
	return dropped, err
}

// comment sets database db's comment to text; the server quotes both.
func comment(ctx context.Context, s Session, db, text string) error {
	stmt, _, err := one(ctx, s, "SELECT format('COMMENT ON DATABASE %I IS %L', @db::text, @body::text)", Arg{"db", db}, Arg{"body", text})
	if err != nil {
		return fmt.Errorf("quote the comment of database %s: %w", db, err)
	}
	if err := run(ctx, s, stmt); err != nil {
		return fmt.Errorf("record the origin of database %s: %w", db, err)
	}
	return nil
}

// origin is the release recorded on database db ("" when none).
func origin(ctx context.Context, s Session, db string) (string, error) {
	c, _, err := one(ctx, s, "SELECT shobj_description(oid, 'pg_database')::text FROM pg_database WHERE datname = @db", Arg{"db", db})
	if err != nil {
		return "", fmt.Errorf("read where database %s came from: %w", db, err)
	}
	return strings.TrimPrefix(c, originPrefix), nil
}
