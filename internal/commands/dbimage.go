package commands

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/local"
	"github.com/slipway/slipway/internal/pgimage"
)

// LocalDBImage builds the local Postgres image from Debian's packages
// (pgimage: the Aurora cluster's major, for machines that cannot pull the
// official image) and names it tag (pgimage.LocalTag when empty); an image
// of the same recipe already built is only tagged. Progress and how to use
// it go to stderr, the name to stdout.
func LocalDBImage(ctx context.Context, tag *string) (err error) {
	dir, err := build.ModuleDir()
	if err != nil {
		return err
	}
	name := pgimage.LocalTag
	if tag != nil && *tag != "" {
		name = *tag
	}
	cli, err := local.Connect(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cli.Close()) }()
	ref, fresh, err := pgimage.Build(ctx, cli, pgimage.Options{ModuleDir: dir, Tag: name}, os.Stderr)
	if err != nil {
		return err
	}
	done := "built"
	if !fresh {
		done = "already built, tagged"
	}
	fmt.Fprintf(os.Stderr, "local:dbImage: %s %s (PostgreSQL %s from Debian %s; recipe tag %s); the local target runs it with %s=%s\n",
		done, name, pgimage.Major, pgimage.Suite, ref, pgimage.EnvImage, name)
	fmt.Println(name)
	return nil
}
