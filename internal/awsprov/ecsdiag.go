package awsprov

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Bounds of the diagnosis of a service that never got healthy.
const (
	diagnoseTimeout = 20 * time.Second // its reads, after the health bound ran out
	diagnoseTasks   = 3                // stopped tasks shown, newest first
	diagnoseEvents  = 3                // service events shown, newest first
)

// diagnose says why a service's tasks never became healthy, from what ECS
// and the ALB report: the service's running, desired and pending counts,
// its newest events (placement and capacity problems), the newest stopped
// tasks with their stoppedReason and each container's exit code and
// reason (image pull errors, crash loops), the target group's health, and
// the commands that look further. A read that fails is said, never fatal:
// this is the text of an error already decided.
func (p *Provider) diagnose(ctx context.Context, r rollout) string {
	ctx, cancel := context.WithTimeout(ctx, diagnoseTimeout)
	defer cancel()
	parts := []string{p.serviceCounts(ctx, r)}
	parts = append(parts, p.stoppedTasks(ctx, r))
	if r.targetGroup != "" {
		ts, err := p.targetHealth(ctx, r.targetGroup)
		switch {
		case err != nil:
			parts = append(parts, "target health unknown: "+err.Error())
		case ts.healthy > 0:
			parts = append(parts, fmt.Sprintf("target group: %d healthy targets", ts.healthy))
		default:
			parts = append(parts, "target group: "+ts.why())
		}
	}
	look := fmt.Sprintf("look further with `aws ecs describe-services --cluster %s --services %s --query 'services[0].events[:10]'`", r.cluster, r.service)
	if r.logGroup != "" {
		look += fmt.Sprintf(" and `aws logs tail %s --log-stream-name-prefix %s --since 1h`", r.logGroup, r.stack)
	}
	return strings.Join(append(parts, look), "; ")
}

// serviceCounts is the service's task counts (of its newest deployment
// when it has one) and its newest events.
func (p *Provider) serviceCounts(ctx context.Context, r rollout) string {
	out, err := p.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(r.cluster), Services: []string{r.service}})
	if err != nil {
		return fmt.Sprintf("service %s: not read: %v", r.service, err)
	}
	if len(out.Services) == 0 {
		return fmt.Sprintf("service %s: not found in cluster %s", r.service, r.cluster)
	}
	svc := out.Services[0]
	running, desired, pending, failed, state := svc.RunningCount, svc.DesiredCount, svc.PendingCount, int32(0), ""
	for _, d := range svc.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			running, desired, pending, failed, state = d.RunningCount, d.DesiredCount, d.PendingCount, d.FailedTasks, string(d.RolloutState)
		}
	}
	s := fmt.Sprintf("the service has %d running, %d desired, %d pending", running, desired, pending)
	if failed > 0 {
		s += fmt.Sprintf(", %d failed to start", failed)
	}
	if state != "" {
		s += ", rollout " + state
	}
	events := svc.Events
	sort.SliceStable(events, func(i, j int) bool { return aws.ToTime(events[i].CreatedAt).After(aws.ToTime(events[j].CreatedAt)) })
	var msgs []string
	for _, e := range events[:min(len(events), diagnoseEvents)] {
		msgs = append(msgs, fmt.Sprintf("%q", aws.ToString(e.Message)))
	}
	if len(msgs) > 0 {
		s += "; newest service events: " + strings.Join(msgs, ", ")
	}
	return s
}

// stoppedTasks names the service's newest stopped tasks and why each
// stopped.
func (p *Provider) stoppedTasks(ctx context.Context, r rollout) string {
	list, err := p.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(r.cluster), ServiceName: aws.String(r.service), DesiredStatus: ecstypes.DesiredStatusStopped})
	if err != nil {
		return "stopped tasks not read: " + err.Error()
	}
	if len(list.TaskArns) == 0 {
		return "no stopped tasks (ECS keeps them about an hour; none started, or none has stopped yet)"
	}
	out, err := p.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(r.cluster), Tasks: list.TaskArns})
	if err != nil {
		return "stopped tasks not read: " + err.Error()
	}
	tasks := out.Tasks
	sort.SliceStable(tasks, func(i, j int) bool { return aws.ToTime(tasks[i].StoppedAt).After(aws.ToTime(tasks[j].StoppedAt)) })
	var each []string
	for _, t := range tasks[:min(len(tasks), diagnoseTasks)] {
		each = append(each, stoppedTask(t))
	}
	return fmt.Sprintf("newest stopped tasks (%d stopped): %s", len(tasks), strings.Join(each, "; "))
}

// stoppedTask is one stopped task: its ID, why it stopped, and each
// container's exit code and reason.
func stoppedTask(t ecstypes.Task) string {
	s := taskID(aws.ToString(t.TaskArn))
	why := aws.ToString(t.StoppedReason)
	if why == "" {
		why = string(t.StopCode)
	}
	if why != "" {
		s += " stopped: " + why
	}
	for _, c := range t.Containers {
		code := "none"
		if c.ExitCode != nil {
			code = fmt.Sprint(*c.ExitCode)
		}
		s += fmt.Sprintf(", container %s exit code %s", aws.ToString(c.Name), code)
		if reason := aws.ToString(c.Reason); reason != "" {
			s += " (" + reason + ")"
		}
	}
	return s
}
