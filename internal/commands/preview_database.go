package commands

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/slipway/slipway/internal/awsprov"
)

// PreviewDatabase is the trusted step of a preview's database on the aws
// target (preview-database.yml): run from the default branch's code with
// the release role, it clones pull request pr's database from the newest
// complete golden one (an existing one keeps its data), stores its URL in
// the secret <app>/pr-<n>/database-url and tags the secret with the
// release it was cloned from, for the preview job, whose role may not do
// any of that, to find by name. With drop it drops the database, its role
// and its secret (the pull request was closed). It takes nothing from the
// event but the number, and prints no URL.
func PreviewDatabase(ctx context.Context, prArg *string, drop *bool) error {
	pr, err := prFlag(prArg)
	if err != nil {
		return fmt.Errorf("preview:database: %w", err)
	}
	n, err := checkPR(pr)
	if err != nil {
		return err
	}
	return withAWS(ctx, "preview:database", func(s *Session, _ *awsprov.Provider) error {
		if !s.Flow.Database {
			return errors.New("preview:database: the database is off: set SLIPWAY_DATABASE=1 (the repository variable SLIPWAY_DATABASE in Actions)")
		}
		dbs := s.Flow.Databases() // on the aws provider
		if drop != nil && *drop {
			if err := dbs.DropPreview(ctx, n); err != nil {
				return fmt.Errorf("drop the database of #%d: %w", n, err)
			}
			fmt.Fprintf(s.Out, "#%d\tdropped\n", n)
			return nil
		}
		db, err := dbs.CreatePreview(ctx, n) // never the database by name: the trusted step creates
		if err != nil {
			return fmt.Errorf("preview database of #%d: %w", n, err)
		}
		how := "kept"
		if db.Cloned {
			how = "cloned"
		}
		fmt.Fprintf(s.Out, "#%d\t%s\t%s from the golden database of %s\n", n, db.Name, how, orUnknown(db.From))
		return nil
	})
}

// checkPR is the -pr number: given, positive, an int32 (GitHub's range).
func checkPR(pr *int) (int, error) {
	switch {
	case pr == nil:
		return 0, errors.New("preview:database: pass the pull request's number: -pr=<number>")
	case *pr <= 0 || *pr > math.MaxInt32:
		return 0, fmt.Errorf("preview:database: -pr=%d is not a pull request number (1 to %d)", *pr, math.MaxInt32)
	}
	return *pr, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown release)"
	}
	return s
}
