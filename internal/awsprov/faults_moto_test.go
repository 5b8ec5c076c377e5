package awsprov

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/naming"
)

// faultFixture is a live production stack the fault tests must not move.
type faultFixture struct {
	e    *awsEnv
	p    *Provider
	live []deploy.Weight
}

// unchanged checks that production still is live, with no ModifyRule
// since modifies were counted.
func (fx faultFixture) unchanged(t *testing.T, modifies int) {
	t.Helper()
	r, err := fx.p.Routes(context.Background())
	must(t, err)
	if len(r.Production) != 1 || r.Production[0] != fx.live[0] || fx.e.inj.count("ModifyRule") != modifies {
		t.Errorf("production %v after %d ModifyRule calls, want %v unchanged", r.Production, fx.e.inj.count("ModifyRule")-modifies, fx.live)
	}
}

// testFaults: faults leave production as it was. What moto never does, injected in
// front of it; each says what AWS does.
func testFaults(t *testing.T, e *awsEnv) {
	ctx := context.Background()
	p := e.provider("fault", "fault.example.com")
	must(t, p.EnsureShared(ctx))
	_, err := p.Deploy(ctx, releaseSpec("fault", "live", 1))
	must(t, err)
	must(t, p.SetProduction(ctx, []deploy.Weight{{Stack: "fault-prod-live", Weight: 100}}))
	live := []deploy.Weight{{Stack: "fault-prod-live", Weight: 100}}
	fx := faultFixture{e: e, p: p, live: live}

	t.Run("a release stack stuck in progress past the bound fails the release with no traffic shift, and nothing is started on it while busy", func(t *testing.T) { testStuckRelease(t, fx) })

	t.Run("an ECS rollback to the old task definition fails the deploy with the reason", func(t *testing.T) { testECSRollback(t, fx) })

	t.Run("targets that never turn healthy fail the deploy within the bound, saying why", func(t *testing.T) { testUnhealthyTargets(t, fx) })

	t.Run("tasks that never start fail the deploy with the service's counts, the stopped tasks' reasons and where to look", func(t *testing.T) { testTasksNeverStart(t, fx) })
}

func testStuckRelease(t *testing.T, fx faultFixture) {
	ctx, e, p := context.Background(), fx.e, fx.p
	// AWS: a stack can stay CREATE_IN_PROGRESS or UPDATE_IN_PROGRESS for
	// many minutes (an ECS service that never stabilises). moto finishes
	// at once, so the release stack's status is rewritten to
	// CREATE_IN_PROGRESS.
	spec := releaseSpec("fault", "stuck", 2)
	name, err := naming.Release("fault", releaseTime, spec.Commit)
	must(t, err)
	spec.Stack = name // the name Release gives it
	defer e.editStack(name, func(s *cfntypes.Stack) { s.StackStatus = cfntypes.StackStatusCreateInProgress })()
	executed, modifies := e.inj.count("ExecuteChangeSet"), e.inj.count("ModifyRule")
	f := flow(p, spec)
	_, err = f.Release(ctx, nil)
	if !errors.Is(err, cfnstack.ErrTimeout) || !strings.Contains(err.Error(), "production traffic unchanged") {
		t.Fatalf("release whose stack never finishes: %v, want the bound named and traffic unchanged", err)
	}
	var fl *deploy.Failure
	if !errors.As(err, &fl) || fl.Next == "" || fl.Stack != name {
		t.Errorf("failure %+v, want the stack and the next command", fl)
	}
	if n := e.inj.count("ExecuteChangeSet") - executed; n != 1 {
		t.Errorf("%d change sets executed during the release, want its one create", n)
	}
	fx.unchanged(t, modifies)
	// Deploying onto the stack while it is still busy waits its bound and
	// gives up with ErrBusy, starting nothing.
	executed = e.inj.count("ExecuteChangeSet")
	_, err = p.Deploy(ctx, spec)
	if !errors.Is(err, deploy.ErrBusy) || !errors.As(err, &fl) || fl.Stack != name {
		t.Fatalf("deploy onto a busy stack: %v, want ErrBusy naming it", err)
	}
	if n := e.inj.count("ExecuteChangeSet") - executed; n != 0 {
		t.Errorf("%d change sets executed onto a busy stack, want none", n)
	}
	fx.unchanged(t, modifies)
}

func testECSRollback(t *testing.T, fx faultFixture) {
	ctx, e, p := context.Background(), fx.e, fx.p
	// AWS: the deployment circuit breaker rolls the service back to
	// its previous task definition; the stack can still end COMPLETE.
	// moto never rolls back, so DescribeServices is rewritten to show
	// the previous revision.
	modifies := e.inj.count("ModifyRule")
	e.inj.on("DescribeServices", func(_ any, next func() (any, error)) (any, error) {
		res, err := next()
		if out, ok := res.(*ecs.DescribeServicesOutput); ok && err == nil {
			for i := range out.Services {
				out.Services[i].TaskDefinition = aws.String("arn:aws:ecs:us-east-1:123456789012:task-definition/previous:1")
			}
		}
		return res, err
	})
	defer e.inj.on("DescribeServices", nil)
	_, err := p.Deploy(ctx, releaseSpec("fault", "rollback", 3))
	var fl *deploy.Failure
	if !errors.As(err, &fl) || !strings.Contains(err.Error(), "circuit breaker rolled back") || !strings.Contains(err.Error(), "previous:1") {
		t.Fatalf("deploy rolled back by ECS: %v, want a failure naming the old task definition and the circuit breaker", err)
	}
	fx.unchanged(t, modifies)
}

func testUnhealthyTargets(t *testing.T, fx faultFixture) {
	ctx, e, p := context.Background(), fx.e, fx.p
	// AWS: tasks failing the /healthz check show as unhealthy with
	// the check's result; moto's registered targets are healthy at
	// once.
	modifies := e.inj.count("ModifyRule")
	e.inj.on("DescribeTargetHealth", func(any, func() (any, error)) (any, error) { return unhealthy(), nil })
	defer e.inj.on("DescribeTargetHealth", nil)
	start := time.Now()
	_, err := p.Deploy(ctx, releaseSpec("fault", "sick", 4))
	if err == nil || !strings.Contains(err.Error(), "codes: [500]") || !strings.Contains(err.Error(), "SLIPWAY_HEALTH_TIMEOUT") {
		t.Fatalf("deploy with unhealthy targets: %v, want the targets' reason and the bound", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("gave up after %s; the bound is %s", d, p.o.HealthTimeout)
	}
	if err := p.SetProduction(ctx, []deploy.Weight{{Stack: "fault-prod-sick", Weight: 100}}); err == nil {
		t.Error("SetProduction onto a stack without healthy targets succeeded")
	}
	fx.unchanged(t, modifies)

	// The bound can run out during a call (a slow API answer): the user
	// is still told what was missing at the last look, not "context
	// deadline exceeded".
	var calls atomic.Int32
	e.inj.on("DescribeTargetHealth", func(_ any, next func() (any, error)) (any, error) {
		if calls.Add(1) == 1 {
			return unhealthy(), nil
		}
		time.Sleep(p.o.HealthTimeout + 500*time.Millisecond)
		return next() // the deploy's bound has passed: the SDK answers its deadline
	})
	_, err = p.Deploy(ctx, releaseSpec("fault", "slow", 5))
	if err == nil || !strings.Contains(err.Error(), "codes: [500]") || !strings.Contains(err.Error(), "SLIPWAY_HEALTH_TIMEOUT") {
		t.Fatalf("deploy whose bound ran out during a call: %v, want the targets' last reason and the bound", err)
	}
	fx.unchanged(t, modifies)
}

// unhealthy is a target group's answer whose one target fails its checks.
func unhealthy() *elbv2.DescribeTargetHealthOutput {
	return &elbv2.DescribeTargetHealthOutput{TargetHealthDescriptions: []elbtypes.TargetHealthDescription{{
		Target: &elbtypes.TargetDescription{Id: aws.String("10.42.0.9")},
		TargetHealth: &elbtypes.TargetHealth{State: elbtypes.TargetHealthStateEnumUnhealthy,
			Reason: elbtypes.TargetHealthReasonEnumFailedHealthChecks, Description: aws.String("Health checks failed with these codes: [500]")},
	}}}
}

func testTasksNeverStart(t *testing.T, fx faultFixture) {
	ctx, e, p := context.Background(), fx.e, fx.p
	// AWS: a service whose tasks cannot start keeps 0 running of 1
	// desired while ECS starts a task, it stops, and ECS starts another;
	// each stopped task stays visible to ListTasks/DescribeTasks (desired
	// status STOPPED) for about an hour with its stopCode, stoppedReason
	// and each container's exit code and reason: CannotPullContainerError
	// for an image that cannot be pulled, "Essential container in task
	// exited" with the exit code for a crash loop (ECS Developer Guide,
	// "Viewing Amazon ECS stopped task errors",
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html,
	// and "Troubleshooting Amazon ECS CannotStartContainerError errors").
	// The service's events say when a task could not be placed. No
	// target is registered. moto runs every task at once, so
	// DescribeServices, ListTasks, DescribeTasks and DescribeTargetHealth
	// answer as AWS does.
	modifies := e.inj.count("ModifyRule")
	cluster := "arn:aws:ecs:us-east-1:123456789012:cluster/fault"
	now := time.Now()
	e.inj.on("DescribeServices", func(_ any, next func() (any, error)) (any, error) {
		res, err := next()
		if out, ok := res.(*ecs.DescribeServicesOutput); ok && err == nil {
			for i := range out.Services {
				s := &out.Services[i]
				s.RunningCount, s.DesiredCount, s.PendingCount = 0, 1, 0
				s.Events = []ecstypes.ServiceEvent{
					{CreatedAt: aws.Time(now.Add(-time.Minute)), Message: aws.String("(service fault-prod-pull) has started 1 tasks: (task 2b7c).")},
					{CreatedAt: aws.Time(now), Message: aws.String("(service fault-prod-pull) has started 1 tasks: (task 9f1e).")},
				}
				for j := range s.Deployments {
					d := &s.Deployments[j]
					d.RunningCount, d.DesiredCount, d.PendingCount, d.FailedTasks = 0, 1, 0, 2
					d.RolloutState = ecstypes.DeploymentRolloutStateInProgress
				}
			}
		}
		return res, err
	})
	e.inj.on("ListTasks", func(params any, _ func() (any, error)) (any, error) {
		if in := params.(*ecs.ListTasksInput); in.DesiredStatus != ecstypes.DesiredStatusStopped {
			return &ecs.ListTasksOutput{}, nil
		}
		return &ecs.ListTasksOutput{TaskArns: []string{cluster + "/2b7c", cluster + "/9f1e"}}, nil
	})
	e.inj.on("DescribeTasks", func(any, func() (any, error)) (any, error) {
		return &ecs.DescribeTasksOutput{Tasks: []ecstypes.Task{
			{TaskArn: aws.String("arn:aws:ecs:us-east-1:123456789012:task/fault/2b7c"), StoppedAt: aws.Time(now.Add(-time.Minute)),
				StopCode: ecstypes.TaskStopCodeEssentialContainerExited, StoppedReason: aws.String("Essential container in task exited"),
				Containers: []ecstypes.Container{{Name: aws.String("app"), ExitCode: aws.Int32(1)}}},
			{TaskArn: aws.String("arn:aws:ecs:us-east-1:123456789012:task/fault/9f1e"), StoppedAt: aws.Time(now),
				StopCode:      ecstypes.TaskStopCodeTaskFailedToStart,
				StoppedReason: aws.String("CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/fault@sha256:5555: not found"),
				Containers:    []ecstypes.Container{{Name: aws.String("app"), Reason: aws.String("CannotPullContainerError: not found")}}},
		}}, nil
	})
	e.inj.on("DescribeTargetHealth", func(any, func() (any, error)) (any, error) { return &elbv2.DescribeTargetHealthOutput{}, nil })
	defer func() {
		for _, op := range []string{"DescribeServices", "ListTasks", "DescribeTasks", "DescribeTargetHealth"} {
			e.inj.on(op, nil)
		}
	}()
	_, err := p.Deploy(ctx, releaseSpec("fault", "pull", 5))
	var fl *deploy.Failure
	if !errors.As(err, &fl) {
		t.Fatalf("deploy whose tasks never start: %v, want a *deploy.Failure", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"did not finish rolling out within",
		"SLIPWAY_HEALTH_TIMEOUT",
		"0 running, 1 desired, 0 pending, 2 failed to start",
		"(service fault-prod-pull) has started 1 tasks: (task 9f1e).",
		"9f1e stopped: CannotPullContainerError: pull image manifest has been retried 7 time(s)",
		"container app exit code none (CannotPullContainerError: not found)",
		"2b7c stopped: Essential container in task exited, container app exit code 1",
		"target group: no targets registered",
		"aws ecs describe-services --cluster fault --services ",
		"aws logs tail /slipway/fault --log-stream-name-prefix fault-prod-pull",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q:\n%s", want, msg)
		}
	}
	if strings.Index(msg, "9f1e stopped") > strings.Index(msg, "2b7c stopped") {
		t.Errorf("the newest stopped task should come first:\n%s", msg)
	}
	fx.unchanged(t, modifies)
}
