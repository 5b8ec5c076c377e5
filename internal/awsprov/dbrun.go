package awsprov

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/deploy"
)

// Tasks is the part of the ECS API the one-off database tasks use.
type Tasks interface {
	RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	DeregisterTaskDefinition(ctx context.Context, in *ecs.DeregisterTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error)
	RunTask(ctx context.Context, in *ecs.RunTaskInput, opts ...func(*ecs.Options)) (*ecs.RunTaskOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
}

// Logs is the part of CloudWatch Logs Slipway calls.
type Logs interface {
	GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
}

var (
	_ Tasks = (*ecs.Client)(nil)
	_ Logs  = (*cloudwatchlogs.Client)(nil)
)

const (
	taskContainer = "migrate" // the container of a one-off database task
	logAttempts   = 5         // CloudWatch Logs may show a stopped task's lines a little later
)

// RunOnce implements deploy.DatabaseServer: run as a one-off Fargate task
// of image with DATABASE_URL from db's secret (runTask).
func (p *Provider) RunOnce(ctx context.Context, image string, run deploy.OneOff, db deploy.SecretURL) (string, error) {
	u, ok := db.(dbURL)
	if !ok {
		return "", fmt.Errorf("%s database %s: its URL is in no secret of this target", run.Name, db.Database())
	}
	return p.runTask(ctx, image, run, u)
}

// runTask registers a task definition for image (family <app>-pr-migrate
// with the preview execution role for a preview's database, else
// <app>-prod-migrate; run's entrypoint, when it has one, replaces the
// image's), runs it once with run's arguments and variables on the shared
// cluster, waits (bounded
// by HealthTimeout) until it stops and returns its output, the password
// taken out. A non-zero exit is a *deploy.MigrationError with the output's
// last lines. The task definition is deregistered afterwards.
func (p *Provider) runTask(ctx context.Context, image string, run deploy.OneOff, u dbURL) (string, error) {
	shared, err := p.Shared(ctx)
	if err != nil {
		return "", err
	}
	family := p.taskFamily(u)
	td, err := p.registerTask(ctx, image, family, run.Entrypoint, u, shared)
	if err != nil {
		return "", err
	}
	defer func() {
		// A leftover revision runs nothing; the next run registers another.
		_, _ = p.db.Tasks.DeregisterTaskDefinition(context.WithoutCancel(ctx), &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(td)})
	}()
	started, err := p.db.Tasks.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String(shared.ClusterName), TaskDefinition: aws.String(td), LaunchType: ecstypes.LaunchTypeFargate,
		Count: aws.Int32(1), StartedBy: aws.String("slipway-" + run.Name),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: shared.SubnetIDs, SecurityGroups: []string{shared.AppTasksSGID}, AssignPublicIp: ecstypes.AssignPublicIpEnabled}},
		Overrides: &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{{Name: aws.String(taskContainer), Command: run.Args, Environment: taskEnv(run.Env)}}},
	})
	if err != nil {
		return "", fmt.Errorf("run the %s task of database %s: %w", run.Name, u.Database(), err)
	}
	if len(started.Tasks) == 0 {
		why := "no task started"
		for _, f := range started.Failures {
			why = aws.ToString(f.Reason) + " " + aws.ToString(f.Detail)
		}
		return "", fmt.Errorf("run the %s task of database %s: %s", run.Name, u.Database(), why)
	}
	task := aws.ToString(started.Tasks[0].TaskArn)
	p.logf("database %s: %s task %s started", u.Database(), run.Name, taskID(task))
	code, why, err := p.waitTask(ctx, shared.ClusterName, task)
	if err != nil {
		return "", fmt.Errorf("%s of database %s: %w", run.Name, u.Database(), err)
	}
	out, err := p.taskOutput(ctx, shared.LogGroupName, family, task, code == 0 && run.Name == "migrate") // migrate answers in its output
	if err != nil {
		return "", err
	}
	out = deploy.RedactURL(out, u) // also any URL's password: under the preview role u is known by its secret only
	if code != 0 {
		if why != "" {
			out = strings.TrimSpace(why + "\n" + out)
		}
		return out, deploy.NewMigrationError(u, code, out)
	}
	return out, nil
}

// taskEnv is env as a container override's variables, in order.
func taskEnv(env map[string]string) []ecstypes.KeyValuePair {
	var out []ecstypes.KeyValuePair
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, ecstypes.KeyValuePair{Name: aws.String(k), Value: aws.String(env[k])})
	}
	return out
}

// taskFamily is the one-off task's family: <app>-pr-migrate for a
// preview's database, else <app>-prod-migrate. It is also the prefix of
// the task's log stream, so the preview role, which reads only
// <app>-pr-* streams, reads previews' migration output and never
// production's.
func (p *Provider) taskFamily(u dbURL) string {
	if u.preview {
		return p.o.App + "-pr-migrate"
	}
	return p.o.App + "-prod-migrate"
}

// registerTask registers the one-off task definition of family, with
// entrypoint replacing the image's when set, and returns its ARN.
func (p *Provider) registerTask(ctx context.Context, image, family string, entrypoint []string, u dbURL, shared infra.SharedOutputs) (string, error) {
	role := shared.ExecutionRoleARN
	if u.preview {
		role = shared.PreviewExecutionRoleARN
	}
	region := "us-east-1"
	if a, err := arn.Parse(shared.ClusterARN); err == nil {
		region = a.Region
	}
	out, err := p.db.Tasks.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"), ExecutionRoleArn: aws.String(role),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String(taskContainer), Image: aws.String(image), EntryPoint: entrypoint, Essential: aws.Bool(true), Memory: aws.Int32(512),
			Secrets: []ecstypes.Secret{{Name: aws.String(deploy.DatabaseURLEnv), ValueFrom: aws.String(u.secretARN)}},
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
				"awslogs-group": shared.LogGroupName, "awslogs-region": region, "awslogs-stream-prefix": family}},
		}},
		Tags: []ecstypes.Tag{{Key: aws.String(TagApp), Value: aws.String(p.o.App)}},
	})
	if err != nil {
		return "", fmt.Errorf("register the task definition %s for %s: %w", family, image, err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn), nil
}

// waitTask polls until task stops and returns its container's exit code;
// a task that stopped without one (the image did not pull, the secret
// could not be read) has code -1 and the reason ECS gives.
func (p *Provider) waitTask(ctx context.Context, cluster, task string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.o.HealthTimeout)
	defer cancel()
	for {
		out, err := p.db.Tasks.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{task}})
		if err != nil {
			return 0, "", fmt.Errorf("describe task %s: %w", taskID(task), err)
		}
		if len(out.Tasks) == 1 && aws.ToString(out.Tasks[0].LastStatus) == "STOPPED" {
			t := out.Tasks[0]
			for _, c := range t.Containers {
				if aws.ToString(c.Name) == taskContainer && c.ExitCode != nil {
					return int(*c.ExitCode), "", nil
				}
			}
			why := aws.ToString(t.StoppedReason)
			for _, c := range t.Containers {
				if r := aws.ToString(c.Reason); r != "" {
					why += ": " + r
				}
			}
			return -1, "task stopped without an exit code: " + why, nil
		}
		select {
		case <-ctx.Done():
			return 0, "", fmt.Errorf("task %s did not stop within %s (SLIPWAY_HEALTH_TIMEOUT): see it with `aws ecs describe-tasks --cluster %s --tasks %s`", taskID(task), p.o.HealthTimeout, cluster, task)
		case <-time.After(p.o.Poll):
		}
	}
}

// taskOutput reads the task's log stream, <family>/migrate/<task ID>
// (awslogs names a stream prefix/container/task ID).
// Lines can reach CloudWatch Logs a little after the task stopped: when
// the output is needed an empty stream is read again a few times;
// otherwise (a failed task, whose reason says why; a seed) a missing
// stream is no error.
func (p *Provider) taskOutput(ctx context.Context, group, family, task string, needed bool) (string, error) {
	stream := family + "/" + taskContainer + "/" + taskID(task)
	var lastErr error
	attempts := 1
	if needed {
		attempts = logAttempts
	}
	for i := range attempts {
		out, err := p.db.Logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
			LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
		if err == nil && len(out.Events) > 0 {
			lines := make([]string, len(out.Events))
			for j, e := range out.Events {
				lines[j] = aws.ToString(e.Message)
			}
			return strings.Join(lines, "\n"), nil
		}
		lastErr = err
		if i < attempts-1 {
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(p.o.Poll):
			}
		}
	}
	if !needed {
		return "", nil
	}
	if lastErr != nil {
		return "", fmt.Errorf("read the output of task %s (log stream %s in %s): %w", taskID(task), stream, group, lastErr)
	}
	return "", fmt.Errorf("read the output of task %s: log stream %s in %s is empty", taskID(task), stream, group)
}

// taskID is the last part of a task ARN.
func taskID(task string) string { return task[strings.LastIndex(task, "/")+1:] }
