package cfnstack

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/smithy-go"
)

// Describe reads one stack by name or ID. A stack that does not exist (or
// is DELETE_COMPLETE) is returned with StateAbsent and no error.
func (e *Engine) Describe(ctx context.Context, name string) (Stack, error) {
	out, err := e.api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if isNotFound(err) {
		return Stack{Name: name, State: StateAbsent}, nil
	}
	if err != nil {
		return Stack{}, fmt.Errorf("describe stack %s: %w", name, err)
	}
	if len(out.Stacks) == 0 {
		return Stack{Name: name, State: StateAbsent}, nil
	}
	s := stackFrom(out.Stacks[0])
	if s.State == StateAbsent {
		s.ID = "" // DELETE_COMPLETE, found by ID
	}
	return s, nil
}

// List reads every live stack (not deleted) whose tags include all of
// match, sorted by name. It pages through DescribeStacks, which returns
// tags and outputs (ListStacks returns neither).
func (e *Engine) List(ctx context.Context, match map[string]string) ([]Stack, error) {
	var stacks []Stack
	p := cloudformation.NewDescribeStacksPaginator(e.api, &cloudformation.DescribeStacksInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list stacks: %w", err)
		}
		for _, s := range out.Stacks {
			st := stackFrom(s)
			if st.State != StateAbsent && hasTags(st.Tags, match) {
				stacks = append(stacks, st)
			}
		}
	}
	sort.Slice(stacks, func(i, j int) bool { return stacks[i].Name < stacks[j].Name })
	return stacks, nil
}

func hasTags(tags, match map[string]string) bool {
	for k, v := range match {
		if got, ok := tags[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// isNotFound reports CloudFormation's answer for a stack that does not
// exist: ValidationError "Stack with id X does not exist".
func isNotFound(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" &&
		strings.Contains(ae.ErrorMessage(), "does not exist")
}
