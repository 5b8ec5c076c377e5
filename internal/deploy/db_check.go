package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/slipway/slipway/internal/naming"
)

// The live-stack check of a release (issue 16): before production's schema
// changes, each live stack that uses the database runs its own image as a
// short-lived stack <live>-check (role RoleCheck) on the new golden
// database, brought to production's schema and migrated expand-only as
// production will be, and the integration tests judge it through the
// stack header. Production is migrated only once every check passed.

// RoleCheck is the role of a check stack: never routed, never a rollback
// target, deleted when its check ends (cleanup removes one left behind).
const RoleCheck = "check"

// Bounds of one check (deploy, health, tests) and of its stack's removal,
// which runs even after Ctrl-C. A check stack older than CheckLeftoverAge
// was left by a run that died: cleanup deletes it.
const (
	CheckTimeout       = 10 * time.Minute
	checkRemoveTimeout = 2 * time.Minute
	CheckLeftoverAge   = CheckTimeout + checkRemoveTimeout + 5*time.Minute
	checkSuffix        = "-check"
)

// CheckStack is the name of the check stack of live stack live.
func CheckStack(live string) (string, error) {
	name := live + checkSuffix
	if !naming.ValidStack(name) {
		return "", fmt.Errorf("check stack name %q is not a valid stack name", name)
	}
	return name, nil
}

// checkLive brings the fresh golden database g to production's schema cur
// and migrates it expand-only with img, as production will be, then runs
// each of users (live stacks that use the database) on it. It changes
// nothing when no live stack uses the database, or when the migration
// would leave production's schema as it is.
func (f *Flow) checkLive(ctx context.Context, img Image, g SecretURL, cur int64, users []Stack, env map[string]string) error {
	if len(users) == 0 {
		return nil
	}
	dbs := f.Databases()
	if cur > 0 {
		m, err := dbs.MigrateTo(ctx, img.Ref, g, cur)
		if err != nil {
			return fmt.Errorf("release: bring the golden copy to production's schema %d with %s (production unchanged): %w", cur, shortRef(img.Digest), err)
		}
		if m.To != cur {
			f.logf("release: production is at schema %d, beyond the %d this image migrates to: its migration changes nothing, so the live stacks are not checked again", cur, m.To)
			return nil
		}
	}
	m, err := dbs.Migrate(ctx, img.Ref, g, true)
	if err != nil {
		return fmt.Errorf("release: migrate the golden copy expand-only with %s (production unchanged: its migration would fail the same way): %w", shortRef(img.Digest), err)
	}
	if m.To == cur {
		f.logf("release: this release's migrations leave production at schema %d: the live stacks run on it already", cur)
		return nil
	}
	f.logf("release: checking the live stacks on a copy of production's schema migrated from %d to %d (expand only), before production changes", cur, m.To)
	for _, s := range users {
		if err := f.checkOnCopy(ctx, s, g, m.To, env); err != nil {
			return err
		}
	}
	return nil
}

// checkOnCopy runs live stack s's image as its check stack on g, at
// schema, judged by the integration tests as s would be on production
// (told SLIPWAY_ENV=production, so they write nothing the golden copy
// would pass on to previews), and deletes the stack on every path.
func (f *Flow) checkOnCopy(ctx context.Context, s Stack, g SecretURL, schema int64, env map[string]string) error {
	name, err := CheckStack(s.Name)
	if err != nil {
		return fmt.Errorf("release: %w (production unchanged)", err)
	}
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	defer f.removeCheck(ctx, name)
	f.logf("release: running live stack %s's image as %s on the copy at schema %d", s.Name, name, schema)
	spec := Spec{Stack: name, Role: RoleCheck, Image: s.Image, Digest: s.Digest, Commit: s.Commit, Env: withDatabase(env, g)}
	if _, err := f.Target.Deploy(ctx, spec); err != nil {
		return fmt.Errorf("release: start live stack %s's image on the copy at schema %d (production unchanged): %w", s.Name, schema, err)
	}
	base, host := f.Routing.Dial(f.productionHost())
	tr, err := f.Tester.Test(ctx, TestTarget{BaseURL: base, Host: host, Commit: s.Commit, Stack: name, StackHeader: name, Database: true, Production: true})
	if err != nil {
		return fmt.Errorf("release: test live stack %s on the copy at schema %d (production unchanged): %w", s.Name, schema, err)
	}
	if !tr.OK {
		return fmt.Errorf("release stopped before production's schema changed (production traffic and schema unchanged): %w: %s on schema %d: %s; make the migration additive (expand), or release in two steps", ErrLiveBreaks, s.Name, schema, tr.Summary)
	}
	f.logf("release: live stack %s passes its tests on schema %d (%s)", s.Name, schema, tr.Summary)
	return nil
}

// removeCheck deletes a check stack, even after ctx ended (Ctrl-C), within
// checkRemoveTimeout; a failure is said, and cleanup removes what is left.
func (f *Flow) removeCheck(ctx context.Context, name string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkRemoveTimeout)
	defer cancel()
	if err := f.Target.Delete(ctx, name); err != nil {
		f.logf("release: warning: delete the check stack %s: %v (run `go run mage.go cleanup` to remove it)", name, err)
		return
	}
	f.logf("release: deleted %s", name)
}

// checkAction is cleanup's decision on a check stack: it lives for one
// check only, so an old one was left behind by a release that died.
func checkAction(s Stack, now time.Time) (string, string) {
	if now.Sub(s.Created) > CheckLeftoverAge {
		return ActionDelete, fmt.Sprintf("release check left behind (older than %s)", age(CheckLeftoverAge))
	}
	return ActionKeep, "release check running"
}
