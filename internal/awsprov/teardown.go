package awsprov

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/naming"
)

// Bounds of a teardown.
const (
	teardownParallel = 4               // deploy stacks deleted at once
	teardownLeaseTTL = 2 * time.Minute // the app's lease, renewed every third
)

// Teardown is what DestroyApp removed, and what it kept on purpose.
type Teardown struct {
	ProductionRule bool     // the production listener rule was deleted
	Stacks         []string // deploy stacks deleted (previews, releases)
	Secrets        []string // the app's secrets deleted (database URLs)
	Shared         string   // the shared stack deleted; "" when there was none
	Kept           []Kept
}

// Kept is something a teardown leaves on purpose, and how to remove it.
type Kept struct {
	What   string   // "ECR repository shop (12 images)"
	Why    string   // why it stays
	Remove []string // the commands that remove it, in order
}

func (k Kept) String() string {
	return fmt.Sprintf("%s: %s; remove it with `%s`", k.What, k.Why, strings.Join(k.Remove, "`, then `"))
}

// DestroyApp removes the app from AWS, in the order AWS allows: under the
// app's lease, the production rule the tool owns outside any stack (so no
// listener forwards to a deploy stack's target group), then every deploy
// stack, previews and releases alike (at most teardownParallel at once);
// then the app's secrets (its database URLs), and last the shared stack,
// with its termination protection turned off, taking the lease's table,
// the ALB, the cluster and (with a database) the Aurora cluster, whose
// final snapshot keeps every database. It keeps the ECR repository and
// that snapshot, and says how to remove them. Run again after a failure,
// it goes on from what is left.
func (p *Provider) DestroyApp(ctx context.Context, owner string) (Teardown, error) {
	var td Teardown
	name, err := naming.Shared(p.o.App)
	if err != nil {
		return td, err
	}
	shared, err := p.eng.Describe(ctx, name)
	if err != nil {
		return td, failure(err)
	}
	stacks, err := p.deployStacks(ctx)
	if err != nil {
		return td, err
	}
	if shared.State != cfnstack.StateAbsent {
		err = p.underLease(ctx, owner, func(ctx context.Context) error { return p.removeDeploys(ctx, &td, stacks) })
	} else {
		err = p.removeDeploys(ctx, &td, stacks)
	}
	if err != nil {
		return td, err
	}
	if td.Secrets, err = p.deleteSecrets(ctx); err != nil {
		return td, err
	}
	if shared.State == cfnstack.StateAbsent {
		p.logf("%s: no shared stack: nothing more to delete", p.o.App)
		return td, nil
	}
	if td.Kept, err = p.DestroyShared(ctx); err != nil {
		return td, err
	}
	td.Shared = name
	return td, nil
}

// underLease runs fn holding the app's lease, renewed every third of its
// TTL. A shared stack without the lock table (it never came up) has no
// lease to take: fn runs without one.
func (p *Provider) underLease(ctx context.Context, owner string, fn func(context.Context) error) error {
	lease, err := p.TryLock(ctx, owner, teardownLeaseTTL)
	var nf *ddbtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		p.logf("%s: the lock table does not exist (the shared stack never came up): going on without the lease", p.o.App)
		return fn(ctx)
	case err != nil:
		return fmt.Errorf("destroy %s: %w: run it again once that is done", p.o.App, err)
	}
	var held context.Context // fn's: its cause says why the lease ended
	err, uerr := deploy.Hold(ctx, lease, teardownLeaseTTL, func(err error) error {
		return fmt.Errorf("the app's lease was lost: %w", err)
	}, func(ctx context.Context) error { held = ctx; return fn(ctx) })
	if uerr != nil {
		p.logf("%s: warning: unlock: %v (the lease expires by itself in %s)", p.o.App, uerr, teardownLeaseTTL)
	}
	if cause := context.Cause(held); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		return fmt.Errorf("%w (%v)", err, cause)
	}
	return err
}

// removeDeploys deletes the production rule, then every deploy stack.
func (p *Provider) removeDeploys(ctx context.Context, td *Teardown, stacks []cfnstack.Stack) error {
	if s, err := p.Shared(ctx); err == nil {
		if td.ProductionRule, err = p.traffic(s).DeleteProduction(ctx); err != nil {
			return fmt.Errorf("destroy %s: %w", p.o.App, err)
		}
		if td.ProductionRule {
			p.logf("%s: production rule deleted: production answers the listener's default (404) from now on", p.o.App)
		}
	} else if !errors.Is(err, errNoShared) {
		return fmt.Errorf("destroy %s: %w", p.o.App, err)
	}
	names := make([]string, len(stacks))
	for i, s := range stacks {
		names[i] = s.Name
	}
	sort.Strings(names)
	errs := make([]error, len(names))
	sem := make(chan struct{}, teardownParallel)
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = p.Delete(ctx, n)
		}()
	}
	wg.Wait()
	var failed []string
	for i, err := range errs {
		if err != nil {
			failed = append(failed, names[i])
			continue
		}
		td.Stacks = append(td.Stacks, names[i])
	}
	if len(failed) > 0 {
		return fmt.Errorf("destroy %s: %d of %d deploy stacks were not deleted (%s), so the shared stack stays: %w; next: run `go run mage.go destroy -app=%s` again",
			p.o.App, len(failed), len(names), strings.Join(failed, ", "), errors.Join(errs...), p.o.App)
	}
	return nil
}

// deleteSecrets deletes the app's own secrets (named <app>/..., tagged with
// the app: the database URLs), at once, without a recovery window: the
// roles they name go with the cluster.
func (p *Provider) deleteSecrets(ctx context.Context) ([]string, error) {
	if p.db.Secrets == nil {
		return nil, nil
	}
	var names []string
	in := &secretsmanager.ListSecretsInput{Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{p.o.App + "/"}}}}
	for {
		out, err := p.db.Secrets.ListSecrets(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("destroy %s: list its secrets: %w", p.o.App, err)
		}
		for _, s := range out.SecretList {
			if n := aws.ToString(s.Name); strings.HasPrefix(n, p.o.App+"/") && hasTag(s.Tags, TagApp, p.o.App) {
				names = append(names, n)
			}
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	sort.Strings(names)
	for _, n := range names {
		_, err := p.db.Secrets.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(n), ForceDeleteWithoutRecovery: aws.Bool(true)})
		var missing *smtypes.ResourceNotFoundException
		if err != nil && !errors.As(err, &missing) {
			return nil, fmt.Errorf("destroy %s: delete secret %s: %w", p.o.App, n, err)
		}
		p.logf("%s: secret %s deleted", p.o.App, n)
	}
	return names, nil
}

func hasTag(tags []smtypes.Tag, k, v string) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == k && aws.ToString(t.Value) == v {
			return true
		}
	}
	return false
}

// kept is what deleting the shared stack leaves, from its outputs: the
// ECR repository (DeletionPolicy Retain: a release's image outlives the
// stack), and with a database the Aurora cluster's final snapshot
// (DeletionPolicy Snapshot).
func (p *Provider) kept(ctx context.Context, s infra.SharedOutputs) []Kept {
	var out []Kept
	n, more, found, err := 0, false, false, error(nil)
	if s.RepositoryName != "" {
		n, more, found, err = p.images(ctx, s.RepositoryName)
	}
	if found || err != nil { // a read that failed: it may well be there
		out = append(out, Kept{What: fmt.Sprintf("ECR repository %s (%s)", s.RepositoryName, imagesHeld(n, more, err)),
			Why:    "kept when the shared stack goes, and the next shared:deploy cannot create it while it exists",
			Remove: []string{"aws ecr delete-repository --repository-name " + s.RepositoryName + " --force"}})
	}
	if s.Database != nil {
		id := infra.DatabaseClusterID(p.o.App)
		out = append(out, Kept{What: fmt.Sprintf("the final snapshot of Aurora cluster %s (every database of the app)", id),
			Why: "CloudFormation snapshots the cluster when it deletes it",
			Remove: []string{"aws rds describe-db-cluster-snapshots --db-cluster-identifier " + id + " --snapshot-type manual",
				"aws rds delete-db-cluster-snapshot --db-cluster-snapshot-identifier <the snapshot's identifier>"}})
	}
	return out
}
