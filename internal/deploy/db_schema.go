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

// ActionMigrate is a cleanup row that runs held contract migrations; a held
// one is ActionKeep.
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
// Held or run, they are all run together (migrate applies every pending
// one), so one blocker holds them all.
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
	var pending []Contract
	for _, c := range liveStack.Contracts {
		if c.Version > cur && c.Version <= liveStack.SchemaHead {
			pending = append(pending, c)
		}
	}
	if len(pending) == 0 {
		return nil, nil
	}
	deleted := map[string]bool{}
	for _, it := range plan {
		deleted[it.Stack] = it.Action == ActionDelete
	}
	var blockers []string
	for _, s := range stacks {
		if s.Role == RoleProduction && s.State != StateFailed && !deleted[s.Name] && s.SchemaHead > 0 && s.SchemaHead < pending[len(pending)-1].Version {
			blockers = append(blockers, fmt.Sprintf("%s (schema %d)", s.Name, s.SchemaHead))
		}
	}
	sort.Strings(blockers)
	var out []PlanItem
	for _, c := range pending {
		it := PlanItem{Stack: "migration " + c.Name, Role: RoleDatabase, Action: ActionMigrate,
			Reason: fmt.Sprintf("contract to schema %d: no kept release needs an older schema", c.Version)}
		if len(blockers) > 0 {
			it.Action, it.Reason = ActionKeep, fmt.Sprintf("contract to schema %d held: kept for rollback: %s", c.Version, strings.Join(blockers, ", "))
		}
		out = append(out, it)
	}
	return out, nil
}

// runContracts runs the contract migrations a plan allows, with the live
// stack's image.
func (f *Flow) runContracts(ctx context.Context, stacks []Stack, r Routes, plan []PlanItem) error {
	var names []string
	for _, it := range plan {
		if it.Role == RoleDatabase && it.Action == ActionMigrate {
			names = append(names, strings.TrimPrefix(it.Stack, "migration "))
		}
	}
	if len(names) == 0 {
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
		return fmt.Errorf("cleanup: run contract migration %s with the live stack %s's image: %w", strings.Join(names, ", "), live, err)
	}
	f.logf("cleanup: ran contract migration %s: production schema %d -> %d", strings.Join(names, ", "), m.From, m.To)
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
