// Command slipway adds Slipway to an app's repository:
//
//	go run github.com/slipway/slipway/cmd/slipway@VERSION init [flags] [dir]
//
// writes slipway.yaml (from the Dockerfile and the test setup it finds, or
// from flags), the magefile that imports Slipway's targets, the
// zero-install mage.go, the go.mod changes and the GitHub Actions
// workflows, then prints the next command. It never overwrites a file
// without -force; a second run writes nothing. Everything else is a mage
// target: `go run mage.go -l`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"

	"github.com/slipway/slipway/internal/scaffold"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: slipway init [flags] [dir]

Adds Slipway to the app's repository in dir (default: the current
directory): slipway.yaml, magefiles/magefile.go, mage.go, go.mod and
.github/workflows/slipway-*.yml. Files already there are kept unless
-force; go.mod is only added to.

Run it as: go run github.com/slipway/slipway/cmd/slipway@VERSION init

Flags (each wins over what init finds):
`

// errUsage marks a mistake in the command line: exit code 2.
var errUsage = errors.New("usage")

// run is the command: it returns the exit code (0, 1 for a failure, 2 for
// a usage error).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		newFlags(stderr, &scaffold.Options{}).PrintDefaults()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] != "init" {
		fmt.Fprintf(stderr, "slipway: unknown command %q: the one command is init (`slipway init -h`); everything else is a mage target (`go run mage.go -l`)\n", args[0])
		return 2
	}
	o, dir, err := parseInit(args[1:], stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "slipway init: %v\n", strings.TrimPrefix(err.Error(), "usage: "))
		return 2
	case err != nil:
		return 2 // the flag package has printed the error and the usage
	}
	r, err := scaffold.Init(ctx, dir, o)
	if err != nil {
		fmt.Fprintf(stderr, "slipway %v\n", err)
		return 1
	}
	if err := r.Print(stdout); err != nil {
		fmt.Fprintf(stderr, "slipway init: %v\n", err)
		return 1
	}
	return 0
}

// newFlags declares init's flags into o.
func newFlags(stderr io.Writer, o *scaffold.Options) *flag.FlagSet {
	fs := flag.NewFlagSet("slipway init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.App, "app", "", "the app's `name` (lower case, hyphens; prefixes every stack); default: the directory's name")
	fs.IntVar(&o.Port, "port", 0, "the `port` the app serves HTTP on in its container; default: the Dockerfile's EXPOSE")
	fs.StringVar(&o.Health, "health", "", "the health check's URL `path`; default: the one the Dockerfile's HEALTHCHECK requests, else /healthz")
	fs.Func("test", "the test `command` run against each deployed stack (split on spaces; it gets the stack's URL in SLIPWAY_URL); default: from package.json, pytest, go.mod or tests/test_*.py", func(s string) error {
		if strings.ContainsAny(s, `"'`+"`\\$") {
			return errors.New("the command is split on spaces, without a shell: for quotes or variables, edit test.command in slipway.yaml (e.g. [\"sh\", \"-c\", \"...\"])")
		}
		if o.Test = strings.Fields(s); len(o.Test) == 0 {
			return errors.New("empty command")
		}
		return nil
	})
	fs.BoolVar(&o.Force, "force", false, "write slipway.yaml, the magefile, mage.go and the workflows afresh over files already there")
	fs.StringVar(&o.Version, "version", buildVersion(), "the Slipway `version` go.mod requires; default: the version this command was run as")
	fs.StringVar(&o.Replace, "replace", "", "a local checkout of Slipway (`dir`) for go.mod's replace directive, to try an unreleased Slipway")
	fs.StringVar(&o.Module, "module", "", "the module `path` of a new go.mod; default: from the git remote origin, else the directory's name")
	return fs
}

// parseInit reads init's flags and its one optional argument, the
// repository's directory.
func parseInit(args []string, stderr io.Writer) (scaffold.Options, string, error) {
	var o scaffold.Options
	fs := newFlags(stderr, &o)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, "", err
	}
	rest := fs.Args()
	switch {
	case len(rest) > 1 && strings.HasPrefix(rest[1], "-"):
		return o, "", fmt.Errorf("%w: flag %s after the directory %s: put the flags first (slipway init [flags] [dir])", errUsage, rest[1], rest[0])
	case len(rest) > 1:
		return o, "", fmt.Errorf("%w: one directory, got %d (%s): slipway init [flags] [dir]", errUsage, len(rest), strings.Join(rest, " "))
	case len(rest) == 1:
		return o, rest[0], nil
	}
	return o, ".", nil
}

// buildVersion is the version of Slipway this command was built from:
// vX.Y.Z when run as `go run github.com/slipway/slipway/cmd/slipway@vX.Y.Z`,
// "" when built from a checkout.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Path != scaffold.SlipwayModule {
		return ""
	}
	v := info.Main.Version
	if v == "" || v == "(devel)" || strings.Contains(v, "+") { // a checkout, maybe with local changes
		return ""
	}
	return v
}
