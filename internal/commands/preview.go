package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/deploy"
)

// previewRequest works out which preview a command means: the -pr flag,
// else SLIPWAY_PR, else the checkout's branch.
func previewRequest(ctx context.Context, s *Session, pr *int) (deploy.PreviewRequest, error) {
	req := deploy.PreviewRequest{Env: appEnv("APP_MESSAGE", "APP_COLOR")}
	switch {
	case pr != nil:
		req.PR = *pr
	case os.Getenv("SLIPWAY_PR") != "":
		n, err := strconv.Atoi(os.Getenv("SLIPWAY_PR"))
		if err != nil || n <= 0 {
			return req, fmt.Errorf("SLIPWAY_PR=%q is not a pull request number", os.Getenv("SLIPWAY_PR"))
		}
		req.PR = n
	default:
		b, err := build.Git(ctx, s.ModuleDir, "rev-parse", "--abbrev-ref", "HEAD")
		if err != nil || b == "HEAD" {
			return req, errors.New("name the preview: pass -pr=<number>, or check out a branch")
		}
		req.Branch = b
	}
	if pr != nil && *pr <= 0 {
		return req, fmt.Errorf("-pr=%d is not a pull request number", *pr)
	}
	return req, nil
}

// PreviewDeploy deploys the preview of a pull request (or branch), runs the
// integration tests against it and prints its URL.
func PreviewDeploy(ctx context.Context, pr *int) error {
	return with(ctx, func(s *Session) error {
		req, err := previewRequest(ctx, s, pr)
		if err != nil {
			return err
		}
		if err := s.PrepareRouter(ctx); err != nil {
			return err
		}
		res, err := s.Flow.DeployPreview(ctx, req)
		if res.URL != "" && err == nil {
			fmt.Fprintln(s.Out, res.URL)
		}
		return err
	})
}

// PreviewDestroy removes the preview of a pull request (or branch).
func PreviewDestroy(ctx context.Context, pr *int) error {
	return with(ctx, func(s *Session) error {
		req, err := previewRequest(ctx, s, pr)
		if err != nil {
			return err
		}
		return s.Flow.DestroyPreview(ctx, req)
	})
}
