package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/slipway/slipway/internal/awsprov"
	"github.com/slipway/slipway/internal/config"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/naming"
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
func SharedDeploy(ctx context.Context) error { return SharedDeployFlags(ctx, nil) }

// SharedDeployFlags is shared:deploy; with -diff it prints what the
// deploy would change (cfnstack.Plan) and changes nothing.
func SharedDeployFlags(ctx context.Context, diff *bool) error {
	return withAWS(ctx, "shared:deploy", func(s *Session, p *awsprov.Provider) error {
		if diff != nil && *diff {
			plan, err := p.PlanShared(ctx)
			if err != nil {
				return err
			}
			return plan.Write(s.Out)
		}
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

// SharedDestroy deletes the shared stack, refused while deploy stacks
// exist, and prints what it keeps and how to remove that.
func SharedDestroy(ctx context.Context) error {
	return withAWS(ctx, "shared:destroy", func(s *Session, p *awsprov.Provider) error {
		kept, err := p.DestroyShared(ctx)
		if err != nil {
			return err
		}
		return printTeardown(s.Out, awsprov.Teardown{Kept: kept})
	})
}

// Destroy removes the app from the aws target: the production rule, every
// preview and release stack, the app's secrets, then the shared stack. It
// asks for the app's name (-app) as its confirmation, and prints what it
// deleted and what it keeps (the ECR repository, a database's snapshot)
// with how to remove that. The local target's equivalent is local:down.
func Destroy(ctx context.Context, app *string) error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if cfg.Target != config.TargetAWS {
		return errors.New("destroy is for the aws target; on the local target run `go run mage.go local:down` (add -deleteData to remove the database's data too)")
	}
	if err := confirmApp(cfg.App, app); err != nil {
		return err
	}
	return withAWS(ctx, "destroy", func(s *Session, p *awsprov.Provider) error {
		td, err := p.DestroyApp(ctx, owner())
		if perr := printTeardown(s.Out, td); perr != nil {
			return errors.Join(err, perr)
		}
		return err
	})
}

// confirmApp checks that the user typed the configured app's name.
func confirmApp(app string, typed *string) error {
	shared, err := naming.Shared(app)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("destroy deletes app %s from AWS: its production rule (production stops answering), every preview and release stack, its secrets and the shared stack %s; its ECR repository and a database's final snapshot stay", app, shared)
	got := ""
	if typed != nil {
		got = strings.TrimSpace(*typed)
	}
	switch got {
	case app:
		return nil
	case "":
		return fmt.Errorf("%s; nothing was changed: to go ahead, name the app: `go run mage.go destroy -app=%s`", what, app)
	}
	return fmt.Errorf("destroy -app=%s: the app configured here is %s (SLIPWAY_APP, else slipway.yaml's app), not %s: nothing was changed; configure the app you mean to destroy, then name it", got, app, got)
}

// printTeardown says what a teardown deleted and what it kept, one line
// each, on stdout.
func printTeardown(w io.Writer, td awsprov.Teardown) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if td.ProductionRule {
		fmt.Fprintln(tw, "deleted\tproduction rule")
	}
	for _, s := range td.Stacks {
		fmt.Fprintf(tw, "deleted\tstack %s\n", s)
	}
	for _, s := range td.Secrets {
		fmt.Fprintf(tw, "deleted\tsecret %s\n", s)
	}
	if td.Shared != "" {
		fmt.Fprintf(tw, "deleted\tshared stack %s\n", td.Shared)
	}
	for _, k := range td.Kept {
		fmt.Fprintf(tw, "kept\t%s\n", k)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print what was deleted: %w", err)
	}
	return nil
}

// planDeploy prints the plan of the stack command's deploy would change
// (-diff) for the spec it would deploy, and changes nothing.
func planDeploy(ctx context.Context, s *Session, command string, spec func(context.Context) (deploy.Spec, error)) error {
	if s.Target.AWS == nil {
		return errors.New(command + " -diff is for the aws target (the local target has no stack to plan): set SLIPWAY_TARGET=aws")
	}
	sp, err := spec(ctx)
	if err != nil {
		return err
	}
	plan, err := s.Target.AWS.PlanDeploy(ctx, sp)
	if err != nil {
		return err
	}
	return plan.Write(s.Out)
}
