package deploy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/manifest"
)

// withCommands gives the flow slipway.yaml's database commands.
func withCommands(f *Flow, migrate, seed []string) {
	m := manifest.Default()
	m.Database = &manifest.Database{Migrate: migrate, Seed: seed}
	f.Manifest = m
}

// An app's own migrate and seed commands (slipway.yaml's database.migrate
// and database.seed) run as the whole command, told what to do by the
// migrate contract's variables: all migrations on a golden copy;
// SLIPWAY_MIGRATE_TO to bring the copy a live stack is checked on to
// production's schema, then expand only, as production; expand only on
// production.
func TestDatabaseCommandsFromTheManifestFollowTheMigrateContract(t *testing.T) {
	p := newDBFake()
	f, _, log := dbFlow(p)
	withCommands(f, []string{"./app", "migrate"}, []string{"bin/seed"})
	if _, err := releaseCommit(t, f, p, "aaaaaaa1111", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := releaseCommit(t, f, p, "bbbbbbb2222", withNote); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	want := []string{
		`migrate ["./app" "migrate"] map[SLIPWAY_MIGRATE:all] shop_golden_1`,
		`seed ["bin/seed"] map[] shop_golden_1`,
		`migrate ["./app" "migrate"] map[SLIPWAY_MIGRATE:expand] shop`,
		`migrate ["./app" "migrate"] map[SLIPWAY_MIGRATE:all SLIPWAY_MIGRATE_TO:2] shop_golden_2`,
		`migrate ["./app" "migrate"] map[SLIPWAY_MIGRATE:expand] shop_golden_2`,
		`migrate ["./app" "migrate"] map[SLIPWAY_MIGRATE:all] shop_golden_2`,
		`seed ["bin/seed"] map[] shop_golden_2`,
		`migrate ["./app" "migrate"] map[SLIPWAY_MIGRATE:expand] shop`,
	}
	if !slices.Equal(p.generic, want) {
		t.Fatalf("runs:\n%s\nwant:\n%s", strings.Join(p.generic, "\n"), strings.Join(want, "\n"))
	}
	if len(p.runs) != len(want) {
		t.Fatalf("runs %q, want only slipway.yaml's commands", p.runs)
	}
}

// Without a seed command nothing seeds; without slipway.yaml's commands
// the sample app's subcommands run, as before the manifest.
func TestDatabaseCommandsDefaults(t *testing.T) {
	p := newDBFake()
	f, _, _ := dbFlow(p)
	withCommands(f, []string{"npm", "run", "migrate"}, nil)
	if _, err := releaseCommit(t, f, p, "aaaaaaa1111", nil); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.generic, "\n"); strings.Contains(got, "seed") || !strings.Contains(got, `migrate ["npm" "run" "migrate"] map[SLIPWAY_MIGRATE:all]`) {
		t.Fatalf("runs:\n%s\nwant migrate by npm and no seed", got)
	}
	if _, err := f.Databases().ImageMigrations(context.Background(), "img", nil); !errors.Is(err, ErrNoMigrationList) {
		t.Fatalf("ImageMigrations of an app with its own commands: %v, want ErrNoMigrationList", err)
	}

	var d Databases
	for _, tc := range []struct {
		run  OneOff
		want OneOff
	}{
		{d.Commands.migrate(false, 0), OneOff{Name: "migrate", Args: []string{"migrate"}}},
		{d.Commands.migrate(true, 0), OneOff{Name: "migrate", Args: []string{"migrate", "-expand-only"}}},
		{d.Commands.migrate(false, 2), OneOff{Name: "migrate", Args: []string{"migrate", "-to", "2"}}},
	} {
		if tc.run.Entrypoint != nil || tc.run.Env != nil || !slices.Equal(tc.run.Args, tc.want.Args) || tc.run.Name != tc.want.Name {
			t.Errorf("without slipway.yaml's commands: %+v, want %+v", tc.run, tc.want)
		}
	}
	if seed, ok := d.Commands.seed(); !ok || !slices.Equal(seed.Args, []string{"seed"}) || seed.Entrypoint != nil {
		t.Errorf("seed without slipway.yaml's commands: %+v, %v", seed, ok)
	}
}
