package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/slipway/slipway/internal/naming"
)

// TagRemover is a Builder that can remove the tag it gave a preview's
// image (the local engine's <app>/app:pr-N or :branch-…), keeping layers
// other images use.
type TagRemover interface {
	RemoveTag(ctx context.Context, tag string) error
}

// removeImageTag removes the destroyed preview's own image tag when the
// builder can. The preview is already gone, so a failure is a warning.
func (f *Flow) removeImageTag(ctx context.Context, stack string, pr int, branch string) {
	r, ok := f.Builder.(TagRemover)
	if !ok || (pr == 0 && branch == "") {
		return
	}
	tag, err := naming.PreviewImageTag(pr, branch)
	if err == nil {
		err = r.RemoveTag(ctx, tag)
	}
	if err != nil {
		f.logf("%s: warning: the preview is gone but its image tag stays: %v", stack, err)
	}
}

// ErrNoSuchStack is a stack named by the user that the target does not have.
var ErrNoSuchStack = errors.New("no such stack")

// DestroyStack removes a preview named by its stack, for a branch preview
// whose branch is gone: its host rules, then the stack. A name the target
// does not have is refused with the previews it has (a typo must not look
// like success); a production stack is refused (cleanup and rollback look
// after those).

func (f *Flow) DestroyStack(ctx context.Context, stack string) error {
	stacks, err := f.Target.Stacks(ctx)
	if err != nil {
		return err
	}
	var found *Stack
	for i := range stacks {
		if stacks[i].Name == stack {
			found = &stacks[i]
		}
	}
	if found == nil {
		var previews []string
		for _, s := range stacks {
			if s.Role == RolePreview {
				previews = append(previews, s.Name)
			}
		}
		sort.Strings(previews)
		if len(previews) == 0 {
			return fmt.Errorf("destroy %s: %w: %s has no previews", stack, ErrNoSuchStack, f.App)
		}
		return fmt.Errorf("destroy %s: %w; the previews of %s are: %s", stack, ErrNoSuchStack, f.App, strings.Join(previews, ", "))
	}
	if found.Role != RolePreview {
		return fmt.Errorf("destroy %s: it is a %s stack, not a preview: old production stacks are removed by `go run mage.go cleanup`", stack, found.Role)
	}
	routes, err := f.Target.Routes(ctx)
	if err != nil {
		return err
	}
	var hosts []string
	for h, s := range routes.Hosts {
		if s == stack {
			hosts = append(hosts, h)
		}
	}
	sort.Strings(hosts)
	if err := f.retirePreview(ctx, stack, hosts, found.PR, found.Branch); err != nil {
		return err
	}
	url := "-"
	if len(hosts) > 0 {
		url = f.Routing.URL(hosts[0])
	}
	f.report(ctx, Event{PR: found.PR, Stack: stack, URL: url, Status: StatusDestroyed})
	return nil
}

// retirePreview is what every preview destroy does once the stack is known:
// its host rules go first, then the stack, its schema-compat stack, its
// database and its image tag.
func (f *Flow) retirePreview(ctx context.Context, stack string, hosts []string, pr int, branch string) error {
	for _, h := range hosts {
		if err := f.Target.SetHost(ctx, h, ""); err != nil {
			return err
		}
		f.logf("%s: %s no longer routes anywhere", stack, f.Routing.URL(h))
	}
	if err := f.Target.Delete(ctx, stack); err != nil {
		return err
	}
	if err := f.deleteCompat(ctx, pr); err != nil {
		return err
	}
	if err := f.dropPreviewDatabase(ctx, pr); err != nil {
		return err
	}
	f.removeImageTag(ctx, stack, pr, branch)
	return nil
}
