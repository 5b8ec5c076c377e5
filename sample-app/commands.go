package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/slipway/slipway/sample-app/store"
)

// commands are the app's one-off subcommands: Slipway runs `<image>
// migrate` as a container before a stack gets traffic, `seed` on the golden
// database, and reads `schema` at build time for the image's labels.
var commands = map[string]func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error{
	"migrate": migrateCommand,
	"seed":    seedCommand,
	"schema":  schemaCommand,
}

func runCommand(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	if err := commands[name](ctx, args, os.Getenv, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "sample-app %s: %v\n", name, err)
		return 1
	}
	return 0
}

// migrateCommand applies the pending migrations to $DATABASE_URL; with
// -expand-only it stops before the first contract migration and names the
// ones it held, each with its kind; with -to N it stops at version N. It
// prints the result as JSON on stdout: the schema before and after, what it
// applied and what it held.
//
// It follows Slipway's migrate contract for a command of slipway.yaml
// (database.migrate) too: SLIPWAY_MIGRATE=expand is -expand-only
// (SLIPWAY_MIGRATE=all, or unset, applies all), SLIPWAY_MIGRATE_TO=N is
// -to N; a flag given wins.
func migrateCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	expandDefault, toDefault, err := migrateEnv(getenv)
	if err != nil {
		return err
	}
	expandOnly := fs.Bool("expand-only", expandDefault, "apply expand migrations only, holding contract ones (a release while older stacks are kept); default from SLIPWAY_MIGRATE=expand")
	to := fs.Int64("to", toDefault, "apply the pending migrations up to this version only, whatever their kind (0: all); default SLIPWAY_MIGRATE_TO")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res, err := store.Migrate(ctx, getenv("DATABASE_URL"), store.MigrateOptions{ExpandOnly: *expandOnly, To: *to, Log: stderr})
	if err != nil {
		return err
	}
	if len(res.Held) > 0 {
		fmt.Fprintf(stderr, "migrate: holding %s until no kept release needs schema %d\n", heldList(res.Held), res.To)
	}
	return writeJSON(stdout, map[string]any{"from": res.From, "to": res.To, "applied": res.Applied, "held": res.Held})
}

// migrateEnv reads the migrate contract's variables: SLIPWAY_MIGRATE
// (all or expand) and SLIPWAY_MIGRATE_TO (a version).
func migrateEnv(getenv func(string) string) (expandOnly bool, to int64, err error) {
	switch m := getenv("SLIPWAY_MIGRATE"); m {
	case "", "all":
	case "expand":
		expandOnly = true
	default:
		return false, 0, fmt.Errorf("SLIPWAY_MIGRATE=%q: want all or expand", m)
	}
	if v := getenv("SLIPWAY_MIGRATE_TO"); v != "" {
		if to, err = strconv.ParseInt(v, 10, 64); err != nil || to < 1 {
			return false, 0, fmt.Errorf("SLIPWAY_MIGRATE_TO=%q: want a version (1 or more)", v)
		}
	}
	return expandOnly, to, nil
}

// heldList names held migrations with their kinds: the first is a
// contract, and an expand one after it waits behind it.
func heldList(held []store.Migration) string {
	out := make([]string, 0, len(held))
	for _, m := range held {
		kind := string(m.Kind)
		if m.Kind == store.Expand {
			kind += ", behind the contract"
		}
		out = append(out, fmt.Sprintf("%s (%s)", m.Name, kind))
	}
	return strings.Join(out, ", ")
}

// seedCommand writes the sample data into $DATABASE_URL (idempotent).
func seedCommand(ctx context.Context, _ []string, getenv func(string) string, _, stderr io.Writer) error {
	if err := store.Seed(ctx, getenv("DATABASE_URL")); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "seed: done")
	return nil
}

// schemaCommand prints the schema this build needs and its migrations.
func schemaCommand(_ context.Context, _ []string, _ func(string) string, stdout, _ io.Writer) error {
	ms, err := store.Migrations()
	if err != nil {
		return err
	}
	head, minV, err := store.Schema()
	if err != nil {
		return err
	}
	return writeJSON(stdout, map[string]any{"head": head, "min": minV, "migrations": ms})
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
