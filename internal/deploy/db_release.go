package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrLiveBreaks is returned when the live stack fails its integration tests
// on the migrated production database: the release would leave no working
// stack to roll back to, so it stops before the shift.
var ErrLiveBreaks = errors.New("the live stack fails its tests on the migrated production database")

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

// releaseDatabase runs before a new production stack is deployed: it
// rebuilds the golden database from img (migrated to its head, seeded),
// applies img's expand migrations to production (contract ones are held
// for cleanup), then runs the live stacks' integration tests again against
// the migrated database. Any failure stops the release with production
// traffic where it was.
func (f *Flow) releaseDatabase(ctx context.Context, img Image, release string, stacks []Stack, live []string) error {
	if !f.Database {
		return nil
	}
	dbs := f.Databases()
	g, err := dbs.RefreshGolden(ctx, img.Ref, release)
	if err != nil {
		return fmt.Errorf("release: refresh the golden database with %s (production traffic unchanged): %w", shortRef(img.Digest), err)
	}
	f.logf("release: golden database rebuilt at schema %d and seeded: new previews are cloned from it", g.To)
	prod, err := dbs.Production(ctx)
	if err != nil {
		return fmt.Errorf("release: production database (production traffic unchanged): %w", err)
	}
	m, err := dbs.Migrate(ctx, img.Ref, prod, true)
	if err != nil {
		return fmt.Errorf("release: migrate the production database with %s (production traffic unchanged; a failed migration's transaction is rolled back): %w", shortRef(img.Digest), err)
	}
	held := ""
	if len(m.Held) > 0 {
		held = fmt.Sprintf("; contract migrations held until no kept release needs the old schema: %s", strings.Join(m.Held, ", "))
	}
	f.logf("release: production database migrated from schema %d to %d (expand only)%s", m.From, m.To, held)
	return f.retestLive(ctx, stacks, live, m.To)
}

// retestLive runs each live stack's integration tests again, through the
// stack header, now that production's schema moved.
func (f *Flow) retestLive(ctx context.Context, stacks []Stack, live []string, schema int64) error {
	commit := map[string]string{}
	for _, s := range stacks {
		commit[s.Name] = s.Commit
	}
	base, host := f.Routing.Dial(f.productionHost())
	for _, name := range live {
		tr, err := f.Tester.Test(ctx, TestTarget{BaseURL: base, Host: host, Commit: commit[name], Stack: name, StackHeader: name, Database: true, Production: true})
		if err != nil {
			return fmt.Errorf("release: test the live stack %s on schema %d (production traffic unchanged): %w", name, schema, err)
		}
		if !tr.OK {
			return fmt.Errorf("release stopped before the traffic shift (production traffic unchanged): %w: %s on schema %d: %s; make the migration additive (expand), or release in two steps", ErrLiveBreaks, name, schema, tr.Summary)
		}
		f.logf("release: live stack %s still passes its tests on schema %d (%s)", name, schema, tr.Summary)
	}
	return nil
}
