package awsprov

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/slipway/slipway/internal/deploy"
)

// ECS is the part of the ECS API Slipway calls: the service's rollout,
// and its stopped tasks when it never gets healthy.
type ECS interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, opts ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	ListTasks(ctx context.Context, in *ecs.ListTasksInput, opts ...func(*ecs.Options)) (*ecs.ListTasksOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
}

var _ ECS = (*ecs.Client)(nil)

// rollout is what a deployed stack must show before Deploy returns.
type rollout struct {
	stack, cluster, service, taskDef, targetGroup, image, next string
	logGroup                                                   string // the shared stack's; streams are prefixed with the stack's name
	health                                                     string // the settings that govern the health wait (deploy.HealthSetting)
	// spot: the service runs on Fargate Spot; a capacity shortage since
	// started is errSpotCapacity.
	spot    bool
	started time.Time
}

// verify waits, bounded, until the ECS service runs the task definition
// with the deployed image and has finished rolling out, and the target
// group has a healthy target. A circuit-breaker rollback can leave the
// stack COMPLETE with the old image: that is a failure, said plainly.
func (p *Provider) verify(ctx context.Context, r rollout) error {
	ctx, cancel := context.WithTimeout(ctx, p.o.HealthTimeout)
	defer cancel()
	missing := "ECS service " + r.service + " did not finish rolling out"
	// The deploy's timing: running until ECS runs the tasks, then target
	// healthy until the target group's first healthy check, as polled.
	wait, began := deploy.Phase{Name: deploy.PhaseRunning}, deploy.Now(ctx)
	defer func() { wait.Took = deploy.Since(ctx, began); deploy.RecordPhase(ctx, wait) }()
	for {
		running, done, err := p.serviceReady(ctx, r)
		if err != nil {
			return p.boundOr(ctx, r, missing, err)
		}
		if running && wait.Name == deploy.PhaseRunning { // the tasks started: the health wait begins
			wait.Took = deploy.Since(ctx, began)
			deploy.RecordPhase(ctx, wait)
			wait, began = deploy.Phase{Name: deploy.PhaseHealthy, Setting: r.health}, deploy.Now(ctx)
		}
		if done {
			break
		}
		if err := p.pause(ctx, r, missing); err != nil {
			return err
		}
	}
	missing = "target group has no healthy target"
	for {
		healthy, why, err := p.targetsHealthy(ctx, r.targetGroup)
		if err != nil {
			return p.boundOr(ctx, r, missing, err)
		}
		if healthy {
			return nil
		}
		missing = "target group has no healthy target: " + why
		if err := p.pause(ctx, r, missing); err != nil {
			return err
		}
	}
}

// boundOr is err, unless the bound ran out during the call that gave it:
// then the user is told what was still missing at the last look, not
// "context deadline exceeded".
func (p *Provider) boundOr(ctx context.Context, r rollout, missing string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && errors.Is(err, context.DeadlineExceeded) {
		return p.pause(ctx, r, missing)
	}
	return err
}

// pause waits one poll interval, or fails when the bound is reached with
// what was still missing and why the tasks did not get there (diagnose).
func (p *Provider) pause(ctx context.Context, r rollout, missing string) error {
	select {
	case <-ctx.Done():
		why := p.diagnose(context.WithoutCancel(ctx), r)
		return rolloutFailure(r.stack, "health", fmt.Sprintf("%s within %s (SLIPWAY_HEALTH_TIMEOUT; `go run mage.go config` shows the bound in force): %s",
			missing, p.o.HealthTimeout, why), r.next)
	case <-time.After(p.o.Poll):
		return nil
	}
}

func (p *Provider) serviceReady(ctx context.Context, r rollout) (running, done bool, err error) {
	out, err := p.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(r.cluster), Services: []string{r.service}})
	if err != nil {
		return false, false, fmt.Errorf("describe ECS service %s: %w", r.service, err)
	}
	if len(out.Services) == 0 {
		return false, false, rolloutFailure(r.stack, "service "+r.service, "not found in cluster "+r.cluster, r.next)
	}
	svc := out.Services[0]
	if msg := noSpotCapacity(svc, r.started); r.spot && msg != "" {
		return false, false, fmt.Errorf("stack %s: %w (ECS: %q)", r.stack, errSpotCapacity, msg)
	}
	for _, d := range svc.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" && d.RolloutState == ecstypes.DeploymentRolloutStateFailed {
			return false, false, rolloutFailure(r.stack, "service "+r.service, "ECS rollout of "+r.image+" failed: "+aws.ToString(d.RolloutStateReason), r.next)
		}
	}
	if got := aws.ToString(svc.TaskDefinition); got != r.taskDef {
		return false, false, rolloutFailure(r.stack, "service "+r.service, fmt.Sprintf(
			"runs task definition %s, not %s with the deployed image %s: the ECS deployment circuit breaker rolled back to the previous version because the new tasks did not start or stay healthy; see the service's events with `aws ecs describe-services --cluster %s --services %s`",
			got, r.taskDef, r.image, r.cluster, r.service), r.next)
	}
	for _, d := range svc.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			running = d.RunningCount >= d.DesiredCount && d.DesiredCount > 0
			return running, running && d.RolloutState != ecstypes.DeploymentRolloutStateInProgress, nil
		}
	}
	running = svc.RunningCount >= svc.DesiredCount && svc.DesiredCount > 0
	return running, running, nil
}

// targetsHealthy reports whether tg has a healthy target, and if not, what
// its targets say.
func (p *Provider) targetsHealthy(ctx context.Context, tg string) (bool, string, error) {
	ts, err := p.targetHealth(ctx, tg)
	if err != nil || ts.healthy > 0 {
		return ts.healthy > 0, "", err
	}
	return false, ts.why(), nil
}

// targetStates is what DescribeTargetHealth says of a target group.
type targetStates struct {
	healthy   int      // targets in state healthy
	unhealthy int      // targets failing their health check: unhealthy, unhealthy.draining
	others    []string // every target not healthy: "<id> <state> (<description>)"
}

// why names the targets that are not healthy.
func (ts targetStates) why() string {
	if ts.healthy == 0 && len(ts.others) == 0 {
		return "no targets registered"
	}
	return strings.Join(ts.others, "; ")
}

// targetHealth reads the health of tg's targets (one DescribeTargetHealth).
func (p *Provider) targetHealth(ctx context.Context, tg string) (targetStates, error) {
	var ts targetStates
	out, err := p.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		return ts, fmt.Errorf("describe target health of %s: %w", tg, err)
	}
	for _, d := range out.TargetHealthDescriptions {
		if d.TargetHealth == nil {
			continue
		}
		switch d.TargetHealth.State {
		case elbtypes.TargetHealthStateEnumHealthy:
			ts.healthy++
			continue
		case elbtypes.TargetHealthStateEnumUnhealthy, elbtypes.TargetHealthStateEnumUnhealthyDraining:
			ts.unhealthy++
		}
		id := "?"
		if d.Target != nil {
			id = aws.ToString(d.Target.Id)
		}
		ts.others = append(ts.others, fmt.Sprintf("%s %s (%s)", id, d.TargetHealth.State, aws.ToString(d.TargetHealth.Description)))
	}
	return ts, nil
}
