package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Contract is a contract migration: it removes or renames what a release
// built before it reads.
type Contract struct {
	Version int64
	Name    string
}

// Image labels that say what schema an image needs (the sample app's
// Dockerfile sets them from `app schema`).
const (
	LabelSchemaHead      = "dev.slipway.schema.head"
	LabelSchemaMin       = "dev.slipway.schema.min"
	LabelSchemaContracts = "dev.slipway.schema.contracts"
)

// ParseContracts reads LabelSchemaContracts: "3:00003_drop_visits.sql,..."
func ParseContracts(label string) ([]Contract, error) {
	var out []Contract
	for _, part := range strings.Split(label, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		v, name, ok := strings.Cut(part, ":")
		n, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil || n <= 0 || name == "" {
			return nil, fmt.Errorf("label %s: %q is not <version>:<file>", LabelSchemaContracts, part)
		}
		out = append(out, Contract{Version: n, Name: name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// ErrContractedAway is returned by rollback when a contract migration the
// target stack cannot run after has run on production.
var ErrContractedAway = errors.New("its schema was contracted away")

// ActionMigrate is a cleanup row of a held migration (a contract one, or
// an expand one behind it) that cleanup's migrate run applies; one still
// held is ActionKeep.
const ActionMigrate = "migrate"

// knownContracts is every contract migration any stack's image names.
func knownContracts(stacks []Stack) []Contract {
	seen := map[int64]Contract{}
	for _, s := range stacks {
		for _, c := range s.Contracts {
			seen[c.Version] = c
		}
	}
	out := make([]Contract, 0, len(seen))
	for _, c := range seen {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

// contractPlan says whether cleanup runs the contract migrations the live
// stack's image holds: only once no production stack that stays (not
// failed, not deleted by this plan) has a schema head below one of them.
// The migrate run applies every pending migration up to the image's head,
// expand ones behind a contract too, so the plan lists each of them (the
// image's `schema` command names them) with the schema the run ends at,
// and one blocker holds them all.
func (f *Flow) contractPlan(ctx context.Context, stacks []Stack, r Routes, plan []PlanItem) ([]PlanItem, error) {
	live := r.Live()
	if !f.Database || len(live) != 1 {
		return nil, nil
	}
	var liveStack Stack
	for _, s := range stacks {
		if s.Name == live[0] {
			liveStack = s
		}
	}
	dbs := f.Databases()
	prod, err := dbs.Production(ctx)
	if err != nil {
		return nil, fmt.Errorf("cleanup: production database: %w", err)
	}
	cur, err := dbs.Schema(ctx, prod)
	if err != nil {
		return nil, fmt.Errorf("cleanup: read production's schema: %w", err)
	}
	var contracts []Contract
	for _, c := range liveStack.Contracts {
		if c.Version > cur && c.Version <= liveStack.SchemaHead {
			contracts = append(contracts, c)
		}
	}
	if len(contracts) == 0 {
		return nil, nil
	}
	deleted := map[string]bool{}
	for _, it := range plan {
		deleted[it.Stack] = it.Action == ActionDelete
	}
	var blockers []string
	for _, s := range stacks {
		if s.Role == RoleProduction && s.State != StateFailed && !deleted[s.Name] && s.SchemaHead > 0 && s.SchemaHead < contracts[len(contracts)-1].Version {
			blockers = append(blockers, fmt.Sprintf("%s (schema %d)", s.Name, s.SchemaHead))
		}
	}
	sort.Strings(blockers)
	pending := f.pendingMigrations(ctx, liveStack, prod, cur, contracts)
	end := liveStack.SchemaHead
	var out []PlanItem
	for i, m := range pending {
		it := PlanItem{Stack: "migration " + m.Name, Role: RoleDatabase, Action: ActionMigrate,
			Reason: fmt.Sprintf("%s: the live stack's migrate runs it, production schema %d -> %d", kindNote(m, behind(pending[:i])), cur, end)}
		if len(blockers) > 0 {
			it.Action, it.Reason = ActionKeep, fmt.Sprintf("%s, held at schema %d: kept for rollback: %s", kindNote(m, behind(pending[:i])), cur, strings.Join(blockers, ", "))
		}
		out = append(out, it)
	}
	return out, nil
}

// pendingMigrations lists what the live stack's migrate would apply to
// production at schema cur: every migration of its image above cur, as
// its `schema` command names them. An image that cannot say is planned by
// its contract migrations (its labels) alone, and the plan says so.
func (f *Flow) pendingMigrations(ctx context.Context, live Stack, prod SecretURL, cur int64, contracts []Contract) []Migration {
	all, err := f.Databases().ImageMigrations(ctx, live.Image, prod)
	var out []Migration
	for _, m := range all {
		if m.Version > cur && m.Version <= live.SchemaHead {
			out = append(out, m)
		}
	}
	if err == nil && len(out) > 0 {
		return out
	}
	f.logf("cleanup: warning: the image of %s does not list its migrations (%v): the plan names its contract migrations only; migrate runs every one up to schema %d", live.Name, err, live.SchemaHead)
	out = out[:0]
	for _, c := range contracts {
		out = append(out, Migration{Version: c.Version, Name: c.Name, Kind: KindContract})
	}
	return out
}

// behind says whether a migration after ms waits behind a contract one.
func behind(ms []Migration) bool {
	for _, m := range ms {
		if m.Kind == KindContract {
			return true
		}
	}
	return false
}

// kindNote is what m is: "contract", "expand, behind the contract".
func kindNote(m Migration, afterContract bool) string {
	switch {
	case m.Kind == KindExpand && afterContract:
		return "expand, behind the contract"
	case m.Kind == "":
		return "kind unknown"
	}
	return m.Kind
}

// runContracts runs the migrations a plan allows, with the live stack's
// image, and says what the run applied.
func (f *Flow) runContracts(ctx context.Context, stacks []Stack, r Routes, plan []PlanItem) error {
	var planned []Migration
	for _, it := range plan {
		if it.Role == RoleDatabase && it.Action == ActionMigrate {
			planned = append(planned, Migration{Name: strings.TrimPrefix(it.Stack, "migration ")})
		}
	}
	if len(planned) == 0 {
		return nil
	}
	live := r.Live()[0]
	var img string
	for _, s := range stacks {
		if s.Name == live {
			img = s.Image
		}
	}
	dbs := f.Databases()
	prod, err := dbs.Production(ctx)
	if err != nil {
		return fmt.Errorf("cleanup: production database: %w", err)
	}
	m, err := dbs.Migrate(ctx, img, prod, false)
	if err != nil {
		return fmt.Errorf("cleanup: run migration %s with the live stack %s's image: %w", MigrationList(planned), live, err)
	}
	ran := m.Applied
	if len(ran) == 0 { // an image that does not say what it applied
		ran = planned
	}
	f.logf("cleanup: ran migration %s with the live stack %s's image: production schema %d -> %d", MigrationList(ran), live, m.From, m.To)
	return nil
}

// checkSchema refuses a rollback to a stack built before a contract
// migration that has run on production.
func (f *Flow) checkSchema(ctx context.Context, target Stack, stacks []Stack) error {
	if !f.Database || target.SchemaHead == 0 {
		return nil
	}
	dbs := f.Databases()
	prod, err := dbs.Production(ctx)
	if err != nil {
		return fmt.Errorf("rollback: production database (production unchanged): %w", err)
	}
	cur, err := dbs.Schema(ctx, prod)
	if err != nil {
		return fmt.Errorf("rollback: read production's schema (production unchanged): %w", err)
	}
	for _, c := range knownContracts(stacks) {
		if c.Version > target.SchemaHead && c.Version <= cur {
			return fmt.Errorf("rollback to %s refused (production unchanged): %w: contract migration %s (schema %d) has run on production and %s was built for schema %d; release a fixed commit instead", target.Name, ErrContractedAway, c.Name, c.Version, target.Name, target.SchemaHead)
		}
	}
	return nil
}

// schemaLabel is the status table's SCHEMA cell: the head a stack's image
// migrates to.
func schemaLabel(s Stack) string {
	if s.SchemaHead == 0 {
		return "-"
	}
	return strconv.FormatInt(s.SchemaHead, 10)
}
