package database

import (
	"context"
	"fmt"
	"sort"
)

// Preview is a pull request's database.
type Preview struct {
	PR       int
	Database string // also the name of its role
	Cloned   bool   // false when the database already existed and was kept
	From     string // the release whose golden copy it was cloned from ("" unknown)
	URL      URL    // DATABASE_URL for the preview's containers
}

// cloneRetries bounds how often a clone takes a newer golden copy when
// the one it chose was superseded and dropped under it.
const cloneRetries = 3

// EnsurePreview gives pull request pr its own database, cloned from the
// newest complete golden one (PublishGolden; the unversioned <app>_golden
// of the unversioned one when there is none), and a role of the same name with
// password that owns it and everything in it, and can connect to no other
// database. An existing preview database is kept (its data survives a
// re-deploy of the PR) and its role's password is set to password, so pass
// the one the preview already runs with when there is one. Migrate the
// result to the PR's head through URL.
func (a *Admin) EnsurePreview(ctx context.Context, app string, pr int, password string) (Preview, error) {
	if err := checkApp(app); err != nil {
		return Preview{}, err
	}
	if pr <= 0 {
		return Preview{}, fmt.Errorf("preview database: PR number %d must be positive", pr)
	}
	name := PreviewName(app, pr)
	p := Preview{PR: pr, Database: name, URL: a.url(name, password, name)}
	err := a.with(ctx, "", func(s Session) error {
		if err := a.closeShared(ctx, s); err != nil {
			return err
		}
		if err := ensureRole(ctx, s, name, password); err != nil {
			return err
		}
		exists, err := databaseExists(ctx, s, name)
		if err != nil {
			return err
		}
		if exists {
			p.From, err = origin(ctx, s, name)
			return err
		}
		if _, p.From, err = cloneGolden(ctx, s, app, name); err != nil {
			return err
		}
		p.Cloned = true
		return comment(ctx, s, name, originPrefix+p.From)
	})
	if err != nil {
		return Preview{}, err
	}
	if err := a.with(ctx, "", func(s Session) error { return private(ctx, s, name, name) }); err != nil {
		return Preview{}, err
	}
	if p.Cloned {
		if err := a.takeOver(ctx, name, GoldenName(app)); err != nil {
			return Preview{}, err
		}
	}
	return p, a.grantPublic(ctx, name, name)
}

// cloneGolden clones the newest complete golden database of app into
// name, owned by the role name, taking a newer copy when the chosen one
// was dropped meanwhile. It returns the copy and its release.
func cloneGolden(ctx context.Context, s Session, app, name string) (string, string, error) {
	var err error
	for range cloneRetries {
		g, ok, lerr := newestGolden(ctx, s, app)
		if lerr != nil {
			return "", "", lerr
		}
		if !ok {
			if g, ok, lerr = legacyGolden(ctx, s, app); lerr != nil {
				return "", "", lerr
			}
		}
		if !ok {
			return "", "", fmt.Errorf("clone preview database %s: the golden database %s does not exist yet (a release creates it; run one first)", name, GoldenName(app))
		}
		if err = createFrom(ctx, s, name, g.name, name); sqlState(err) != stateNoDatabase {
			return g.name, g.release, err
		}
	}
	return "", "", err
}

// legacyGolden is the unversioned golden database <app>_golden of a
// server set up before goldens were versioned, when it exists; the next
// PublishGolden drops it.
func legacyGolden(ctx context.Context, s Session, app string) (golden, bool, error) {
	ok, err := databaseExists(ctx, s, GoldenName(app))
	if err != nil || !ok {
		return golden{}, false, err
	}
	rel, err := origin(ctx, s, GoldenName(app))
	return golden{name: GoldenName(app), complete: true, release: rel}, true, err
}

// takeOver gives the preview role what the golden role created in the
// clone, and leaves the golden role no privilege there. Not DROP OWNED:
// that also revokes the golden role's CONNECT on the golden database a
// release may be building at that moment.
func (a *Admin) takeOver(ctx context.Context, name, golden string) error {
	return a.with(ctx, name, func(s Session) error {
		g := ident(golden)
		err := run(ctx, s, "REASSIGN OWNED BY "+g+" TO "+ident(name),
			"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "+g,
			"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM "+g,
			"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM "+g,
			"REVOKE ALL ON SCHEMA public FROM "+g)
		if err != nil {
			return fmt.Errorf("give %s the objects cloned from %s: %w", name, golden, err)
		}
		return nil
	})
}

// DropPreview drops pull request pr's database (ending its sessions) and
// its role. Dropping what is already gone succeeds.
func (a *Admin) DropPreview(ctx context.Context, app string, pr int) error {
	if err := checkApp(app); err != nil {
		return err
	}
	name := PreviewName(app, pr)
	return a.with(ctx, "", func(s Session) error {
		if err := dropDatabase(ctx, s, name); err != nil {
			return fmt.Errorf("drop preview database %s: %w", name, err)
		}
		if err := run(ctx, s, "DROP ROLE IF EXISTS "+ident(name)); err != nil {
			return fmt.Errorf("drop preview role %s: %w", name, err)
		}
		return nil
	})
}

// ListPreviews returns the PR numbers that have a preview database of app,
// in order, for cleanup to compare with the previews that still exist.
func (a *Admin) ListPreviews(ctx context.Context, app string) ([]int, error) {
	if err := checkApp(app); err != nil {
		return nil, err
	}
	var prs []int
	err := a.with(ctx, "", func(s Session) error {
		rows, err := s.Query(ctx, "SELECT datname::text FROM pg_database WHERE starts_with(datname, @prefix)", Arg{"prefix", app + "_pr_"})
		if err != nil {
			return fmt.Errorf("list preview databases of %s: %w", app, err)
		}
		for _, n := range column(rows) {
			if pr, ok := parsePreview(app, n); ok {
				prs = append(prs, pr)
			}
		}
		return nil
	})
	sort.Ints(prs)
	return prs, err
}

// closeShared takes from PUBLIC the right to connect to the databases every
// server has (the admin's own and template1), so a preview role can reach
// its database alone. The superuser keeps it.
func (a *Admin) closeShared(ctx context.Context, s Session) error {
	for _, db := range []string{a.adminDB, "template1"} {
		if err := run(ctx, s, "REVOKE CONNECT ON DATABASE "+ident(db)+" FROM PUBLIC"); err != nil {
			return fmt.Errorf("close database %s to other roles: %w", db, err)
		}
	}
	return nil
}
