package cfnstack

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// eventLog follows one stack's events: it prints each new event once, in
// the order CloudFormation recorded them, and remembers the first resource
// that failed since the operation started.
type eventLog struct {
	api   API
	out   io.Writer
	stack string // stack ID when known (it outlives DELETE_COMPLETE), else name
	name  string
	seen  map[string]bool
	first *Resource
	// warned is set once a failed events read has been reported, so a
	// flaky DescribeStackEvents prints one line, not one per poll.
	warned bool
}

func newEventLog(api API, out io.Writer, s Stack) *eventLog {
	ref := s.ID
	if ref == "" {
		ref = s.Name
	}
	return &eventLog{api: api, out: out, stack: ref, name: s.Name, seen: map[string]bool{}}
}

// baseline marks the events that exist before an operation as seen, so
// only the operation's own events are printed. Only the newest event is
// needed: paging stops at the first event already seen.
func (l *eventLog) baseline(ctx context.Context) error {
	l.first = nil
	out, err := l.api.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(l.stack)})
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read events of stack %s: %w", l.name, err)
	}
	for _, ev := range out.StackEvents {
		l.seen[aws.ToString(ev.EventId)] = true
	}
	return nil
}

// poll prints the events recorded since the last poll, oldest first.
// Events are informational: a failed read is printed once and the wait
// goes on reading the stack's status.
func (l *eventLog) poll(ctx context.Context) {
	fresh, err := l.fresh(ctx)
	if err != nil && !l.warned {
		l.warned = true
		fmt.Fprintf(l.out, "%s: %v (the wait goes on)\n", l.name, err)
	}
	for i := len(fresh) - 1; i >= 0; i-- {
		l.print(fresh[i])
	}
}

// fresh returns the unseen events, newest first.
func (l *eventLog) fresh(ctx context.Context) ([]types.StackEvent, error) {
	var fresh []types.StackEvent
	p := cloudformation.NewDescribeStackEventsPaginator(l.api, &cloudformation.DescribeStackEventsInput{StackName: aws.String(l.stack)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if isNotFound(err) {
			return fresh, nil
		}
		if err != nil {
			return fresh, fmt.Errorf("read events of stack %s: %w", l.name, err)
		}
		for _, ev := range out.StackEvents {
			id := aws.ToString(ev.EventId)
			if l.seen[id] {
				return fresh, nil
			}
			l.seen[id] = true
			fresh = append(fresh, ev)
		}
	}
	return fresh, nil
}

func (l *eventLog) print(ev types.StackEvent) {
	reason := oneLine(aws.ToString(ev.ResourceStatusReason))
	line := fmt.Sprintf("%s  %s  %s  %s (%s)", aws.ToTime(ev.Timestamp).UTC().Format("15:04:05"), l.name,
		ev.ResourceStatus, aws.ToString(ev.LogicalResourceId), aws.ToString(ev.ResourceType))
	if reason != "" {
		line += ": " + reason
	}
	fmt.Fprintln(l.out, line)
	if l.first == nil && isResourceFailure(ev) {
		l.first = &Resource{
			LogicalID:  aws.ToString(ev.LogicalResourceId),
			PhysicalID: aws.ToString(ev.PhysicalResourceId),
			Type:       aws.ToString(ev.ResourceType),
			Status:     string(ev.ResourceStatus),
			Reason:     reason,
		}
	}
}

// isResourceFailure reports a resource (not the stack itself) that failed
// for a reason of its own: "Resource creation cancelled" only says another
// resource failed first.
func isResourceFailure(ev types.StackEvent) bool {
	if !strings.HasSuffix(string(ev.ResourceStatus), "_FAILED") {
		return false
	}
	if aws.ToString(ev.PhysicalResourceId) == aws.ToString(ev.StackId) {
		return false
	}
	return !strings.Contains(aws.ToString(ev.ResourceStatusReason), "cancelled")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
