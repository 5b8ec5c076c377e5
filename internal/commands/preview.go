package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/github"
	"github.com/slipway/slipway/internal/gitrepo"
	"github.com/slipway/slipway/internal/target"
)

// previewContext works out which preview a command means and what GitHub
// knows of it: the -pr flag or SLIPWAY_PR, else the Actions event, else the
// open pull request of the checked-out branch, else the branch itself.
// skip is non-empty when this run has nothing to do (an event for another
// verb, a fork on the wrong workflow...). An invalid number fails here,
// before anything is touched. Outside Actions, GitHub is optional: when it
// cannot be asked, one line says nothing is reported to it (louder when the
// user named a pull request that cannot be looked up), and quiet is set so
// the reporter does not say it again.
func previewContext(ctx context.Context, dir string, log io.Writer, verb github.Kind, pr *int) (req deploy.PreviewRequest, gh github.Context, skip string, quiet bool, err error) {
	req = deploy.PreviewRequest{Env: appEnv("APP_MESSAGE", "APP_COLOR")}
	asked, err := requestedPR(pr, os.Getenv)
	if err != nil {
		return req, gh, "", false, fmt.Errorf("name the preview: %w", err)
	}
	r := github.Request{Kind: verb}
	if pr != nil {
		r.PR = *pr
	}
	// Detect reads SLIPWAY_PR itself when -pr is not given, and keeps the
	// number even when GitHub cannot be asked about it.
	gh, err = github.Detect(ctx, os.Getenv, r)
	switch {
	case err == nil:
	case os.Getenv("GITHUB_ACTIONS") == "true":
		return req, gh, "", false, fmt.Errorf("read the GitHub event: %w", err)
	case asked && gh.PR == 0: // the number itself was refused
		return req, gh, "", false, fmt.Errorf("name the preview: %w", err)
	case asked:
		why, ok := github.Unreachable(err)
		if !ok {
			why = err.Error()
		}
		fmt.Fprintf(log, "github: warning: nothing is reported to pull request #%d: %s\n", gh.PR, why)
		quiet = true
	default: // a laptop: GitHub is optional
		fmt.Fprintln(log, "github: nothing is reported to GitHub from this machine (that needs a GitHub remote and `gh auth login` or GH_TOKEN)")
		quiet = true
	}
	if gh.Actions {
		if d := gh.Action(); d.Kind == github.Ignore {
			return req, gh, d.Reason, quiet, nil
		}
	}
	req.PR = gh.PR
	if req.PR == 0 {
		b, err := gitrepo.Branch(ctx, dir)
		if err != nil || b == "" {
			return req, gh, "", quiet, errors.New("name the preview: pass -pr=<number>, set SLIPWAY_PR, or check out a branch")
		}
		req.Branch = b
	}
	for _, n := range gh.Notes {
		fmt.Fprintf(log, "github: %s\n", n)
	}
	return req, gh, "", quiet, nil
}

// prFlag reads the -pr flag as the user typed it ("42", "#42", "pr-42"):
// mage's own int flag would answer "abc" with a Go conversion error. The
// number is an int from here on.
func prFlag(pr *string) (*int, error) {
	if pr == nil || strings.TrimSpace(*pr) == "" {
		return nil, nil
	}
	n, err := github.ParsePR(strings.TrimSpace(*pr))
	if err != nil {
		return nil, fmt.Errorf("-pr: %w", err)
	}
	return &n, nil
}

// requestedPR checks the pull request number the user gave (-pr or
// SLIPWAY_PR) and reports whether there is one.
func requestedPR(pr *int, env func(string) string) (bool, error) {
	if pr != nil {
		if err := github.CheckPR(*pr); err != nil {
			return false, fmt.Errorf("-pr: %w", err)
		}
		return true, nil
	}
	if v := env("SLIPWAY_PR"); v != "" {
		if _, err := github.ParsePR(v); err != nil {
			return false, fmt.Errorf("SLIPWAY_PR: %w", err)
		}
		return true, nil
	}
	return false, nil
}

// PreviewDeploy deploys the preview of a pull request (or branch), runs the
// integration tests against it, reports to the pull request and prints the
// preview's URL.
func PreviewDeploy(ctx context.Context, prArg *string) error {
	return PreviewDeployFlags(ctx, prArg, nil)
}

// PreviewDeployFlags is preview:deploy; with -diff (aws target) it builds
// and pushes the image, prints what the deploy would change in the
// preview's stack (cfnstack.Plan) and stops: no stack, rule, database or
// pull request comment is touched.
func PreviewDeployFlags(ctx context.Context, prArg *string, diff *bool) error {
	pr, err := prFlag(prArg)
	if err != nil {
		return fmt.Errorf("preview:deploy: %w", err)
	}
	dir, err := build.ModuleDir()
	if err != nil {
		return err
	}
	req, gh, skip, quiet, err := previewContext(ctx, dir, os.Stderr, github.DeployPreview, pr)
	if err != nil || skip != "" {
		return skipped(skip, err)
	}
	// The pull request decides whether AWS may be used (a fork's may not
	// in Actions): the target is opened knowing it.
	o := opening{gh: &gh, loadArchive: os.Getenv("SLIPWAY_IMAGE_ARCHIVE"), reporter: func(t target.Target) deploy.Reporter {
		var notes []string
		if t.NoAWS != "" {
			fmt.Fprintf(os.Stderr, "preview: no AWS deploy: %s; deploying to the local target on this machine\n", t.NoAWS)
			notes = append(notes, "No AWS deploy: "+t.NoAWS)
		}
		return newReporter(gh, t.Name, notes, quiet, os.Stderr)
	}}
	return withOpening(ctx, o, func(s *Session) error {
		if diff != nil && *diff {
			return planDeploy(ctx, s, "preview:deploy", func(ctx context.Context) (deploy.Spec, error) { return s.Flow.PreviewSpec(ctx, req) })
		}
		res, err := s.Flow.DeployPreview(ctx, req)
		showTiming(s, res.Timing, false) // the reporter wrote it to the step summary
		if errors.Is(err, deploy.ErrSchemaCompat) {
			fmt.Fprintln(s.Out, res.URL) // the preview is up for review
		}
		if err != nil {
			annotate(err)
			return err
		}
		fmt.Fprintln(s.Out, res.URL)
		return nil
	})
}

// PreviewDestroy removes the preview of a pull request (or branch) and
// tells the pull request.
func PreviewDestroy(ctx context.Context, pr *int) error {
	dir, err := build.ModuleDir()
	if err != nil {
		return err
	}
	req, gh, skip, quiet, err := previewContext(ctx, dir, os.Stderr, github.DestroyPreview, pr)
	if err != nil || skip != "" {
		return skipped(skip, err)
	}
	// A destroy runs no pull request code: it removes the preview from the
	// configured target, where a maintainer's label may have deployed it.
	o := opening{reporter: func(t target.Target) deploy.Reporter { return newReporter(gh, t.Name, nil, quiet, os.Stderr) }}
	return withOpening(ctx, o, func(s *Session) error {
		if err := s.Flow.DestroyPreview(ctx, req); err != nil {
			annotate(err)
			return err
		}
		return nil
	})
}

func skipped(reason string, err error) error {
	if err != nil {
		annotate(err)
		return err
	}
	fmt.Fprintf(os.Stderr, "preview: nothing to do: %s\n", reason)
	return nil
}

// annotate turns an error into ::error:: lines in GitHub Actions.
func annotate(err error) {
	if os.Getenv("GITHUB_ACTIONS") == "true" {
		_ = github.Annotate(os.Stdout, err)
	}
}
