// Command sample-app is Slipway's demo application. It is configured by
// environment variables (PORT, APP_MESSAGE, APP_COLOR, SLIPWAY_STACK,
// SHUTDOWN_TIMEOUT; APP_FAIL_PERCENT and APP_DELAY for canary drills) and
// stops gracefully on SIGTERM or SIGINT. With -healthcheck it instead asks
// a running copy on 127.0.0.1:$PORT whether it is healthy and exits 0 or 1,
// for a container HEALTHCHECK without a shell.
//
// With DATABASE_URL set it keeps a visit counter and notes in Postgres; the
// subcommands migrate [-expand-only] [-to N], seed and schema manage its schema
// (see commands.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/slipway/slipway/sample-app/app"
	"github.com/slipway/slipway/sample-app/store"
)

// Set by the build: -ldflags "-X main.version=... -X main.commit=...", and
// "-X main.dirty=true" for a build from uncommitted changes.
var version = "dev"
var commit = "unknown"
var dirty = "false"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) > 0 && commands[args[0]] != nil {
		return runCommand(context.Background(), args[0], args[1:], os.Stdout, os.Stderr)
	}
	fs := flag.NewFlagSet("sample-app", flag.ContinueOnError)
	healthcheck := fs.Bool("healthcheck", false, "check the app on 127.0.0.1:$PORT/healthz and exit 0 (healthy) or 1")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := app.LoadConfig(os.Getenv, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	cfg.Version, cfg.Commit, cfg.Dirty = version, commit, dirty == "true"

	if *healthcheck {
		if err := app.Healthcheck(context.Background(), cfg.Port); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal kills the process at once
	}()

	ln, err := net.Listen("tcp", ":"+cfg.Port)
	if err != nil {
		log.Error("cannot listen", "port", cfg.Port, "err", err)
		return 1
	}
	a := app.New(cfg, log)
	if dsn := os.Getenv("DATABASE_URL"); dsn != "" {
		s, err := store.Open(dsn)
		if err != nil {
			log.Error("cannot use DATABASE_URL", "err", err)
			return 1
		}
		defer s.Close()
		a.WithStore(s)
	}
	if err := a.Run(ctx, ln); err != nil {
		log.Error("exiting with error", "err", err)
		return 1
	}
	return 0
}
