package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
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
// ones it held. It prints the result as JSON on stdout.
func migrateCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	expandOnly := fs.Bool("expand-only", false, "apply expand migrations only, holding contract ones (a release while older stacks are kept)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res, err := store.Migrate(ctx, getenv("DATABASE_URL"), store.MigrateOptions{ExpandOnly: *expandOnly, Log: stderr})
	if err != nil {
		return err
	}
	held := make([]string, 0, len(res.Held))
	for _, m := range res.Held {
		held = append(held, m.Name)
	}
	if len(held) > 0 {
		fmt.Fprintf(stderr, "migrate: holding contract migration(s) %s until no kept release needs schema %d\n", strings.Join(held, ", "), res.To)
	}
	return writeJSON(stdout, map[string]any{"from": res.From, "to": res.To, "held": held})
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
	return writeJSON(stdout, map[string]any{"head": store.SchemaHead, "min": store.MinSchema, "migrations": ms})
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
