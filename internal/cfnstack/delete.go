package cfnstack

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// DeleteInput says which stack to delete.
type DeleteInput struct {
	Name string
	// Live refuses the delete with ErrLive when it says the stack carries
	// production traffic; nil: no check.
	Live Guard
	Next string // the command to run when this fails
}

// Delete deletes a stack and waits until it is gone. Deleting a stack that
// does not exist succeeds. A stack already being deleted is waited for; one
// busy with another operation gets ErrBusy after Options.BusyTimeout. When
// CloudFormation cannot delete some resources (DELETE_FAILED), Delete
// retries once retaining them and reports them as orphans.
func (e *Engine) Delete(ctx context.Context, in DeleteInput) (DeleteResult, error) {
	res, err := e.delete(ctx, in)
	return res, e.finish(ctx, err, "delete", in.Name, in.Next)
}

func (e *Engine) delete(ctx context.Context, in DeleteInput) (DeleteResult, error) {
	st, err := e.Describe(ctx, in.Name)
	if err != nil || st.State == StateAbsent {
		return DeleteResult{}, err
	}
	if in.Live != nil {
		live, err := in.Live(ctx, st)
		if err != nil {
			return DeleteResult{}, fmt.Errorf("delete stack %s: check whether it carries production traffic: %w", in.Name, err)
		}
		if live {
			return DeleteResult{}, &StackError{Op: "delete", Stack: in.Name, Status: string(st.Status), State: st.State, Err: ErrLive}
		}
	}
	if st.State.Busy() && st.State != StateDeleting {
		if st, err = e.waitBusy(ctx, in.Name, st); err != nil {
			return DeleteResult{}, err
		}
		if st.State == StateAbsent {
			return DeleteResult{Existed: true}, nil
		}
	}
	orphans, err := e.deleteStack(ctx, st)
	return DeleteResult{Existed: true, Orphans: orphans}, err
}

// deleteStack deletes st (by ID) and waits; on DELETE_FAILED it retries
// once retaining the resources that failed, and returns them.
func (e *Engine) deleteStack(ctx context.Context, st Stack) ([]Resource, error) {
	const op = "delete"
	log := e.logFrom(ctx, st)
	var retain, orphans []Resource
	for attempt := 0; attempt < 2; attempt++ {
		if st.State != StateDeleting {
			in := &cloudformation.DeleteStackInput{StackName: aws.String(st.ID), ClientRequestToken: aws.String(token("delete"))}
			for _, r := range retain {
				in.RetainResources = append(in.RetainResources, r.LogicalID)
			}
			if _, err := e.api.DeleteStack(ctx, in); err != nil {
				return orphans, &StackError{Op: op, Stack: st.Name, Status: string(st.Status), State: st.State, Err: fmt.Errorf("delete stack: %w", err)}
			}
			orphans = retain
		}
		after, err := e.wait(ctx, op, log, e.opts.Timeout, ErrTimeout)
		if err != nil {
			return orphans, withOrphans(err, orphans)
		}
		if after.State == StateAbsent {
			return orphans, nil
		}
		if after.State != StateDeleteFailed || len(retain) > 0 {
			return orphans, withOrphans(failure(op, after, log), orphans)
		}
		if retain, err = e.failedResources(ctx, after); err != nil {
			return orphans, err
		}
		if len(retain) == 0 {
			return orphans, failure(op, after, log)
		}
		fmt.Fprintf(e.out, "%s: %d resource(s) could not be deleted; deleting the stack again and retaining them\n", st.Name, len(retain))
		st, log.first = after, nil
	}
	return orphans, nil
}

// failedResources lists the resources in DELETE_FAILED.
func (e *Engine) failedResources(ctx context.Context, st Stack) ([]Resource, error) {
	var out []Resource
	p := cloudformation.NewListStackResourcesPaginator(e.api, &cloudformation.ListStackResourcesInput{StackName: aws.String(st.ID)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("delete stack %s: list its resources: %w", st.Name, err)
		}
		for _, r := range page.StackResourceSummaries {
			if r.ResourceStatus == "DELETE_FAILED" {
				out = append(out, Resource{
					LogicalID: aws.ToString(r.LogicalResourceId), PhysicalID: aws.ToString(r.PhysicalResourceId),
					Type: aws.ToString(r.ResourceType), Status: string(r.ResourceStatus), Reason: oneLine(aws.ToString(r.ResourceStatusReason)),
				})
			}
		}
	}
	return out, nil
}

func withOrphans(err error, orphans []Resource) error {
	var se *StackError
	if errors.As(err, &se) && len(orphans) > 0 {
		se.Orphans = orphans
	}
	return err
}
