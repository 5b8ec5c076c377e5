package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipway/slipway/internal/awsprov"
)

// withAWS runs fn with the aws target, or says how to get one.
func withAWS(ctx context.Context, command string, fn func(*Session, *awsprov.Provider) error) error {
	return with(ctx, func(s *Session) error {
		if s.Target.AWS == nil {
			return errors.New(command + " is for the aws target: set SLIPWAY_TARGET=aws (and AWS credentials)")
		}
		return fn(s, s.Target.AWS)
	})
}

// SharedDeploy creates or updates the shared stack and prints the ALB's
// name and the URL scheme previews get.
func SharedDeploy(ctx context.Context) error {
	return withAWS(ctx, "shared:deploy", func(s *Session, p *awsprov.Provider) error {
		if err := p.DeployShared(ctx); err != nil {
			return err
		}
		sh, err := p.Shared(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.Out, "%s\t%s\n", sh.LoadBalancerDNSName, s.Cfg.URLScheme())
		return nil
	})
}

// SharedDestroy deletes the shared stack, refused while deploy stacks exist.
func SharedDestroy(ctx context.Context) error {
	return withAWS(ctx, "shared:destroy", func(_ *Session, p *awsprov.Provider) error { return p.DestroyShared(ctx) })
}
