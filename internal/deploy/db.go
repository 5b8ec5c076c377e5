package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// SecretURL is a database URL with a password: String is redacted, Reveal
// is only for a container's environment.
type SecretURL interface {
	fmt.Stringer
	Reveal() string
	Database() string
}

// PreviewDatabase is a preview's database.
type PreviewDatabase struct {
	Name   string
	Cloned bool   // false: it existed and kept its data
	From   string // the release whose golden copy it was cloned from ("" unknown)
	URL    SecretURL
}

// MigrateResult is what a migrate run reports: schema before and after,
// the migrations it applied, and the ones it held (expand-only: the first
// pending contract migration and everything after it).
type MigrateResult struct {
	From    int64       `json:"from"`
	To      int64       `json:"to"`
	Applied []Migration `json:"applied"`
	Held    []Migration `json:"held"`
}

// Migration is one migration as a migrate run or the image's `schema`
// command names it.
type Migration struct {
	Version int64  `json:"version"`
	Name    string `json:"name"`
	Kind    string `json:"kind"` // KindExpand, KindContract; "" when the image does not say
}

// Kinds of migration (the "-- slipway:expand|contract" line).
const (
	KindExpand   = "expand"
	KindContract = "contract"
)

// UnmarshalJSON reads a migration as an object or, as images built before
// migrations had kinds in the output printed them, as its file name.
func (m *Migration) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err == nil {
		*m = Migration{Name: name}
		return nil
	}
	type plain Migration
	return json.Unmarshal(b, (*plain)(m))
}

// MigrationList names migrations with their kinds, in order: "00003_drop_visits.sql
// (contract), 00004_x.sql (expand, behind the contract)". An expand
// migration after a contract one waits behind it (migrate runs them in
// order), which is why it is held or run with it.
func MigrationList(ms []Migration) string {
	out := make([]string, 0, len(ms))
	for i, m := range ms {
		if m.Kind == "" {
			out = append(out, m.Name)
			continue
		}
		out = append(out, m.Name+" ("+kindNote(m, behind(ms[:i]))+")")
	}
	return strings.Join(out, ", ")
}

// MigrateCommand is the sample app image's arguments for a migrate run;
// expandOnly holds contract migrations.
func MigrateCommand(expandOnly bool) []string {
	if expandOnly {
		return []string{"migrate", "-expand-only"}
	}
	return []string{"migrate"}
}

// MigrateToCommand is the sample app image's arguments for a migrate run
// that stops at version, whatever the kinds: how a release brings a fresh
// copy to production's schema.
func MigrateToCommand(version int64) []string {
	return []string{"migrate", "-to", strconv.FormatInt(version, 10)}
}

// OneOff is one run of the app's image against a database (RunOnce).
type OneOff struct {
	Name string // "migrate", "seed" or "schema": names the container or task and the messages
	// Entrypoint, when set, replaces the image's entrypoint: a command of
	// slipway.yaml is the whole command, its first word the program. Unset,
	// Args follow the image's entrypoint (the sample app's subcommands).
	Entrypoint []string
	Args       []string
	Env        map[string]string // more variables than DATABASE_URL
}

// The migrate contract: what a migrate command of slipway.yaml
// (database.migrate) gets besides DATABASE_URL. It applies the pending
// migrations, "expand" stopping before the first pending contract one,
// and never beyond SLIPWAY_MIGRATE_TO when that is set; it prints, as the
// last line of its standard output, {"from":N,"to":M} (plus, optionally,
// "applied" and "held": lists of {"version","name","kind"}); a non-zero
// exit is a failed migration, its output shown.
const (
	MigrateEnv    = "SLIPWAY_MIGRATE"    // MigrateAll or MigrateExpand
	MigrateToEnv  = "SLIPWAY_MIGRATE_TO" // a version: migrate no further, whatever the kinds
	MigrateAll    = "all"
	MigrateExpand = "expand"
)

// DatabaseCommands are the app's one-off database commands, slipway.yaml's
// database.migrate and database.seed; unset (no slipway.yaml, Slipway's
// sample app), the sample app's subcommands: `migrate [-expand-only] [-to
// N]`, `seed`, `schema`.
type DatabaseCommands struct {
	Migrate []string
	Seed    []string
}

// generic reports whether the commands come from slipway.yaml.
func (c DatabaseCommands) generic() bool { return len(c.Migrate) > 0 || len(c.Seed) > 0 }

// migrate is a migrate run: expandOnly holds contract migrations; to > 0
// stops at that version whatever the kinds.
func (c DatabaseCommands) migrate(expandOnly bool, to int64) OneOff {
	if !c.generic() {
		args := MigrateCommand(expandOnly)
		if to > 0 {
			args = MigrateToCommand(to)
		}
		return OneOff{Name: "migrate", Args: args}
	}
	env := map[string]string{MigrateEnv: MigrateAll}
	if expandOnly {
		env[MigrateEnv] = MigrateExpand
	}
	if to > 0 {
		env[MigrateToEnv] = strconv.FormatInt(to, 10)
	}
	return command("migrate", c.Migrate, env)
}

// seed is a seed run; false when slipway.yaml names no seed command.
func (c DatabaseCommands) seed() (OneOff, bool) {
	if !c.generic() {
		return OneOff{Name: "seed", Args: []string{"seed"}}, true
	}
	return command("seed", c.Seed, nil), len(c.Seed) > 0
}

// command is a run of words from slipway.yaml, the whole command.
func command(name string, words []string, env map[string]string) OneOff {
	if len(words) == 0 {
		return OneOff{Name: name, Env: env}
	}
	return OneOff{Name: name, Entrypoint: words[:1], Args: words[1:], Env: env}
}

// ParseMigrateOutput reads what a migrate run printed: its last line is
// the JSON MigrateResult.
func ParseMigrateOutput(out string) (MigrateResult, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	var res MigrateResult
	if err := json.Unmarshal([]byte(last), &res); err != nil {
		return res, fmt.Errorf("read what migrate printed (%q): %w", last, err)
	}
	return res, nil
}

// RedactURL takes db's URL and password out of text (a one-off run's
// output), and the password of any other URL with credentials in it (a
// database known by its secret only: aws's preview role never reads the
// URL), so a MigrationError can be printed.
func RedactURL(text string, db SecretURL) string {
	if u, err := url.Parse(db.Reveal()); err == nil && u.User != nil {
		text = strings.ReplaceAll(text, db.Reveal(), db.String())
		if pw, ok := u.User.Password(); ok && pw != "" {
			text = strings.ReplaceAll(text, pw, "xxxxx")
		}
	}
	return urlPassword.ReplaceAllString(text, "${1}xxxxx@")
}

// urlPassword finds the password of a URL with credentials.
var urlPassword = regexp.MustCompile(`(://[^:/@\s]*:)[^@\s]+@`)

// runOutputLines is how much of a failed run's output its error keeps.
const runOutputLines = 20

// NewMigrationError is a one-off run of image against db that exited with
// code: output's last lines, which the target has passed through
// RedactURL.
func NewMigrationError(db SecretURL, code int, output string) *MigrationError {
	lines := strings.Split(strings.TrimRight(output, "\n"), "\n")
	if len(lines) > runOutputLines {
		lines = lines[len(lines)-runOutputLines:]
	}
	return &MigrationError{Database: db.Database(), ExitCode: code, Output: strings.Join(lines, "\n")}
}

// MigrationError is a migrate run that failed, with its own words.
type MigrationError struct {
	Database string
	ExitCode int
	Output   string // the command's last output lines, no URL in it
}

func (e *MigrationError) Error() string {
	return fmt.Sprintf("migration of database %s failed (exit %d): %s", e.Database, e.ExitCode, e.Output)
}

// DatabaseURLEnv is the variable a stack reads its database from.
const DatabaseURLEnv = "DATABASE_URL"

// withDatabase returns env with DATABASE_URL added; env itself is kept.
func withDatabase(env map[string]string, u SecretURL) map[string]string {
	out := make(map[string]string, len(env)+1)
	maps.Copy(out, env)
	out[DatabaseURLEnv] = u.Reveal()
	return out
}

// previewDatabase clones (or keeps) the PR's database and migrates it with
// the PR's image; it returns the env the stack gets.
func (f *Flow) previewDatabase(ctx context.Context, pr int, img Image, env map[string]string) (map[string]string, *PreviewDB, error) {
	if !f.Database {
		return env, nil, nil
	}
	if pr <= 0 {
		f.logf("preview: a branch without a pull request gets no database (open the PR to get one)")
		return env, nil, nil
	}
	dbs := f.Databases()
	db, err := dbs.EnsurePreview(ctx, pr)
	if err != nil {
		return nil, nil, fmt.Errorf("preview database of #%d: %w", pr, err)
	}
	how := "kept (its data survives a re-deploy)"
	if db.Cloned {
		how = "cloned from the golden database of release " + orNone(db.From)
	}
	f.logf("preview: database %s %s", db.Name, how)
	m, err := dbs.Migrate(ctx, img.Ref, db.URL, false)
	if err != nil {
		return nil, nil, fmt.Errorf("migrate preview database %s with %s (the preview was not deployed): %w", db.Name, shortRef(img.Digest), err)
	}
	f.logf("preview: database %s migrated from schema %d to %d", db.Name, m.From, m.To)
	return withDatabase(env, db.URL), &PreviewDB{Name: db.Name, Cloned: db.Cloned, From: m.From, Head: m.To, Released: db.From}, nil
}

// PreviewDB says what a preview's database is, for the PR comment.
type PreviewDB struct {
	Name     string
	Cloned   bool
	From     int64  // schema before the migration (the golden copy's)
	Head     int64  // schema after
	Released string // the release whose golden copy it was cloned from
}

func orNone(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// dropPreviewDatabase drops a destroyed preview's database and role.
func (f *Flow) dropPreviewDatabase(ctx context.Context, pr int) error {
	if !f.Database || pr <= 0 {
		return nil
	}
	if err := f.Databases().DropPreview(ctx, pr); err != nil {
		return fmt.Errorf("drop the database of #%d: %w", pr, err)
	}
	f.logf("destroy: dropped the database and role of #%d", pr)
	return nil
}

// Database actions in a cleanup plan.
const (
	RoleDatabase = "database"
	ActionDrop   = "drop"
)

// databasePlan lists the preview databases whose preview stack is gone.
// A preview this plan deletes counts as gone.
func (f *Flow) databasePlan(ctx context.Context, stacks []Stack, plan []PlanItem) ([]PlanItem, error) {
	if !f.Database {
		return nil, nil
	}
	prs, err := f.Databases().Previews(ctx)
	if err != nil {
		return nil, fmt.Errorf("cleanup: list preview databases: %w", err)
	}
	deleted := map[string]bool{}
	for _, it := range plan {
		deleted[it.Stack] = it.Action == ActionDelete
	}
	alive := map[int]bool{}
	for _, s := range stacks {
		if s.Role == RolePreview && s.PR > 0 && !deleted[s.Name] {
			alive[s.PR] = true
		}
	}
	var out []PlanItem
	for _, pr := range prs {
		if !alive[pr] {
			out = append(out, PlanItem{Stack: fmt.Sprintf("database of #%d", pr), PR: pr, Role: RoleDatabase, Action: ActionDrop, Reason: fmt.Sprintf("preview #%d is gone", pr)})
		}
	}
	return out, nil
}

// dropDatabases carries out the database rows of a plan.
func (f *Flow) dropDatabases(ctx context.Context, plan []PlanItem) error {
	var errs []error
	for _, it := range plan {
		if it.Role != RoleDatabase || it.Action != ActionDrop {
			continue
		}
		pr := it.PR
		if err := f.Databases().DropPreview(ctx, pr); err != nil {
			errs = append(errs, fmt.Errorf("drop the database of #%d: %w", pr, err))
			continue
		}
		f.logf("cleanup: dropped the database and role of #%d (%s)", pr, it.Reason)
	}
	return errors.Join(errs...)
}
