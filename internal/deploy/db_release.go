package deploy

import (
	"context"
	"errors"
	"fmt"
)

// ErrLiveBreaks is returned when a live stack fails its integration tests
// on the schema the release would migrate production to: the release
// would leave no working stack to roll back to, so it stops before
// production's schema changes (see releaseDatabase).
var ErrLiveBreaks = errors.New("the live stack fails its tests on the schema this release migrates production to")

// releaseEnv adds production's DATABASE_URL to env when the database is on.
func (f *Flow) releaseEnv(ctx context.Context, env map[string]string) (map[string]string, error) {
	if !f.Database {
		return env, nil
	}
	u, err := f.Databases().Production(ctx)
	if err != nil {
		return nil, fmt.Errorf("release: production database (production traffic unchanged): %w", err)
	}
	return withDatabase(env, u), nil
}

// releaseDatabase runs before a new production stack is deployed, and
// every check that can refuse the release runs before production's schema
// changes:
//
//  1. A new golden database is built; when a live stack uses the database,
//     it is brought to production's schema and migrated expand-only, as
//     production will be, and each such live stack's image runs on it as a
//     short-lived stack judged by its tests (checkLive). A live stack
//     without DATABASE_URL cannot be broken by a migration and is not
//     checked.
//  2. The golden copy is finished with every migration and the seed, and
//     published for new previews.
//  3. Only then is production migrated, expand-only: a contract migration,
//     and what follows it, is held for cleanup.
//
// Any failure stops the release with production traffic where it was. env
// is the release's environment; a check stack gets it with the golden
// copy's DATABASE_URL.
func (f *Flow) releaseDatabase(ctx context.Context, img Image, release string, stacks []Stack, live []string, env map[string]string) error {
	if !f.Database {
		return nil
	}
	dbs := f.Databases()
	prod, err := dbs.Production(ctx)
	if err != nil {
		return fmt.Errorf("release: production database (production traffic unchanged): %w", err)
	}
	cur, err := dbs.Schema(ctx, prod)
	if err != nil {
		return fmt.Errorf("release: read production's schema (production traffic unchanged): %w", err)
	}
	g, err := dbs.BuildGolden(ctx)
	if err != nil {
		return fmt.Errorf("release: build the golden database (production traffic unchanged): %w", err)
	}
	users, inPlace := f.liveOnDatabase(stacks, live)
	if err := f.checkLive(ctx, img, g, cur, users, env); err != nil {
		return err
	}
	res, err := dbs.FinishGolden(ctx, img.Ref, g, release)
	if err != nil {
		return fmt.Errorf("release: refresh the golden database with %s (production traffic unchanged): %w", shortRef(img.Digest), err)
	}
	f.logf("release: golden database rebuilt at schema %d and seeded: new previews are cloned from it", res.To)
	m, err := dbs.Migrate(ctx, img.Ref, prod, true)
	if err != nil {
		return fmt.Errorf("release: migrate the production database with %s (production traffic unchanged; a failed migration's transaction is rolled back): %w", shortRef(img.Digest), err)
	}
	held := ""
	if len(m.Held) > 0 {
		held = "; held until no kept release needs the old schema: " + MigrationList(m.Held)
	}
	f.logf("release: production database migrated from schema %d to %d (expand only)%s", m.From, m.To, held)
	if m.To == m.From {
		return nil
	}
	return f.retestLive(ctx, inPlace, m.To)
}

// liveOnDatabase splits the live stacks that may use the database (those
// a target says run without DATABASE_URL are said and left out) into the
// ones checked on a copy before production changes, and the ones whose
// image the target does not name, which can only be retested in place.
func (f *Flow) liveOnDatabase(stacks []Stack, live []string) (onCopy, inPlace []Stack) {
	byName := map[string]Stack{}
	for _, s := range stacks {
		byName[s.Name] = s
	}
	for _, name := range live {
		s, ok := byName[name]
		switch {
		case !ok:
			s = Stack{Name: name}
		case s.NoDatabase:
			f.logf("release: live stack %s runs without %s: this release's migrations cannot break it, so it is not checked on the new schema", name, DatabaseURLEnv)
			continue
		}
		if s.Image == "" {
			f.logf("release: the target does not say which image live stack %s runs, so it cannot run on a copy first: it is retested on production after the migration", name)
			inPlace = append(inPlace, s)
			continue
		}
		onCopy = append(onCopy, s)
	}
	return onCopy, inPlace
}

// retestLive runs the integration tests of live stacks that could not be
// checked on a copy (liveOnDatabase) again, through the stack header, now
// that production's schema moved.
func (f *Flow) retestLive(ctx context.Context, live []Stack, schema int64) error {
	base, host := f.Routing.Dial(f.productionHost())
	for _, s := range live {
		tr, err := f.Tester.Test(ctx, TestTarget{BaseURL: base, Host: host, Commit: s.Commit, Stack: s.Name, StackHeader: s.Name, Database: true, Production: true})
		if err != nil {
			return fmt.Errorf("release: test the live stack %s on schema %d (production traffic unchanged): %w", s.Name, schema, err)
		}
		if !tr.OK {
			return fmt.Errorf("release stopped before the traffic shift (production traffic unchanged, its schema is %d): %w: %s on schema %d: %s; make the migration additive (expand), or release in two steps", schema, ErrLiveBreaks, s.Name, schema, tr.Summary)
		}
		f.logf("release: live stack %s still passes its tests on schema %d (%s)", s.Name, schema, tr.Summary)
	}
	return nil
}
