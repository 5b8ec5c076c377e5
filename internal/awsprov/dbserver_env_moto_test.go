package awsprov

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rdsdata/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/database"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/pgimage/pgtest"
	"github.com/slipway/slipway/sample-app/store"
)

// What moto 5.2.5 does of the database's AWS calls, measured (boto3 and
// these tests):
//   - Secrets Manager: CreateSecret (ResourceExistsException on a second
//     one), PutSecretValue, GetSecretValue, DeleteSecret with
//     ForceDeleteWithoutRecovery (then ResourceNotFoundException): real.
//   - CloudWatch Logs: CreateLogStream, PutLogEvents, GetLogEvents: real
//     (a missing stream answers ResourceNotFoundException).
//   - ECS RegisterTaskDefinition (Fargate, secrets, awslogs) and
//     DeregisterTaskDefinition: real. moto needs a container-level memory.
//   - ECS RunTask of an awsvpc task: HTTP 500 (AttributeError:
//     'NetworkInterface' object has no attribute 'private_dns_name');
//     without a network configuration, InvalidParameterException. So
//     RunTask and DescribeTasks are answered here (dbEnv.runTask).
//   - RDS Data API ExecuteStatement: accepts any request and answers
//     {"records": []} whatever the SQL: there is no engine. The hook lets
//     moto take the request, then runs the statement in a real Postgres.
//   - The Aurora cluster: moto's CloudFormation cannot create it
//     (infra/moto_database_test.go), so the shared stack's four database
//     outputs are added to what DescribeStacks answers.

const (
	dbApp      = "shop"
	clusterARN = "arn:aws:rds:us-east-1:123456789012:cluster:shop-db"
)

// dbEnv is moto plus a real Postgres playing the Aurora cluster.
type dbEnv struct {
	*awsEnv
	p         *Provider
	pg        *pgtest.Server
	masterARN string
	sm        *secretsmanager.Client // straight to moto
	ecs       *ecs.Client
	logs      *cloudwatchlogs.Client

	mu    sync.Mutex
	runs  []*ecs.RunTaskInput
	tasks map[string]taskResult // by task ARN
	// fail, when set, is what a task does instead of running the command.
	fail func(cmd []string, url string) taskResult
}

// taskResult is how a one-off task ended.
type taskResult struct {
	lines  []string
	exit   *int32 // nil: stopped without one
	reason string
	polls  int
}

func newDBEnv(t *testing.T) *dbEnv {
	t.Helper()
	e := newAWSEnv(t)
	pg := pgtest.Start(t)
	ctx := context.Background()
	plain := motoConfig(e.endpoint())
	d := &dbEnv{awsEnv: e, pg: pg, sm: secretsmanager.NewFromConfig(plain), ecs: ecs.NewFromConfig(plain),
		logs: cloudwatchlogs.NewFromConfig(plain), tasks: map[string]taskResult{}}
	// The master user secret RDS manages for the cluster (its JSON form).
	master, _ := json.Marshal(map[string]string{"username": "postgres", "password": pg.Password})
	sec, err := d.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("rds!cluster-0123"), SecretString: aws.String(string(master))})
	if err != nil {
		t.Fatal(err)
	}
	d.masterARN = aws.ToString(sec.ARN)
	e.editStack(dbApp+"-shared", func(s *cfntypes.Stack) {
		for k, v := range map[string]string{infra.OutputDatabaseEndpoint: "127.0.0.1", infra.OutputDatabasePort: strconv.Itoa(pg.Port),
			infra.OutputDatabaseClusterARN: clusterARN, infra.OutputDatabaseSecretARN: d.masterARN} {
			s.Outputs = append(s.Outputs, cfntypes.Output{OutputKey: aws.String(k), OutputValue: aws.String(v)})
		}
	})
	e.inj.on("ExecuteStatement", d.executeStatement)
	e.inj.on("RunTask", d.runTask)
	e.inj.on("DescribeTasks", d.describeTasks)
	d.p = e.provider(dbApp, "")
	d.p.db = DBClients{Data: rdsdata.NewFromConfig(e.cfg), Secrets: secretsmanager.NewFromConfig(e.cfg),
		Tasks: ecs.NewFromConfig(e.cfg), Logs: cloudwatchlogs.NewFromConfig(e.cfg)}
	if err := d.p.EnsureShared(ctx); err != nil {
		t.Fatal(err)
	}
	return d
}

// dbs is the database flow on p (d.p, or a second process's provider), as
// the orchestration runs it.
func (d *dbEnv) dbs(p *Provider) deploy.Databases {
	return deploy.Databases{Server: p, App: dbApp, Log: d.log}
}

// executeStatement lets moto take the Data API request, then runs it in
// Postgres as the master user, on the database it names. A refused
// statement comes back as AWS words it: DatabaseErrorException with
// Postgres' message and "SQLState: <code>".
func (d *dbEnv) executeStatement(params any, next func() (any, error)) (any, error) {
	in := params.(*rdsdata.ExecuteStatementInput)
	if aws.ToString(in.ResourceArn) != clusterARN || aws.ToString(in.SecretArn) != d.masterARN || in.TransactionId != nil {
		return nil, fmt.Errorf("ExecuteStatement on %s with secret %s, transaction %v: want the cluster, its master secret and no transaction",
			aws.ToString(in.ResourceArn), aws.ToString(in.SecretArn), in.TransactionId)
	}
	if _, err := next(); err != nil {
		return nil, err
	}
	x, err := database.NewPgxExecutor(d.pg.AdminDSN())
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	s, err := x.Open(ctx, aws.ToString(in.Database))
	if err != nil {
		return nil, &rdstypes.DatabaseNotFoundException{Message: aws.String(err.Error())}
	}
	defer func() { _ = s.Close(ctx) }()
	sql := aws.ToString(in.Sql)
	var args []database.Arg
	names := []string{}
	for _, p := range in.Parameters {
		v, ok := p.Value.(*rdstypes.FieldMemberStringValue)
		if !ok {
			return nil, fmt.Errorf("parameter %s: %T, want a string", aws.ToString(p.Name), p.Value)
		}
		args = append(args, database.Arg{Name: aws.ToString(p.Name), Value: v.Value})
		names = append(names, aws.ToString(p.Name))
	}
	for _, n := range names { // :name, not the cast ::name
		sql = regexp.MustCompile(`(^|[^:]):`+regexp.QuoteMeta(n)+`\b`).ReplaceAllString(sql, "${1}@"+n)
	}
	rows, err := s.Query(ctx, sql, args...)
	var se *database.SQLError
	if errors.As(err, &se) {
		return nil, &rdstypes.DatabaseErrorException{Message: aws.String("ERROR: " + se.Message + "; SQLState: " + se.Code)}
	}
	if err != nil {
		return nil, err
	}
	out := &rdsdata.ExecuteStatementOutput{}
	for _, r := range rows {
		rec := make([]rdstypes.Field, len(r))
		for i, v := range r {
			if v == nil {
				rec[i] = &rdstypes.FieldMemberIsNull{Value: true}
			} else {
				rec[i] = &rdstypes.FieldMemberStringValue{Value: *v}
			}
		}
		out.Records = append(out.Records, rec)
	}
	return out, nil
}

// runTask plays ECS and the container: it reads the task definition
// from moto, the DATABASE_URL secret it names (as the execution role
// would), runs the command (the sample app's migrate or seed, in-process)
// and writes its lines to the task's log stream in moto, as the awslogs
// driver does. Real ECS starts the task and answers PROVISIONING.
func (d *dbEnv) runTask(params any, _ func() (any, error)) (any, error) {
	in := params.(*ecs.RunTaskInput)
	ctx := context.Background()
	td, err := d.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: in.TaskDefinition})
	if err != nil {
		return nil, err
	}
	c := td.TaskDefinition.ContainerDefinitions[0]
	var url string
	for _, s := range c.Secrets {
		if aws.ToString(s.Name) == "DATABASE_URL" {
			v, err := d.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: s.ValueFrom})
			if err != nil {
				return nil, &ecstypes.InvalidParameterException{Message: aws.String("ResourceInitializationError: " + err.Error())}
			}
			url = strings.Replace(aws.ToString(v.SecretString), "sslmode=require", "sslmode=disable", 1) // the test's Postgres has no TLS; Aurora requires it
		}
	}
	cmd := in.Overrides.ContainerOverrides[0].Command
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	task := "arn:aws:ecs:us-east-1:123456789012:task/" + aws.ToString(in.Cluster) + "/" + hex.EncodeToString(b)
	res := d.command(ctx, cmd, url)
	group := c.LogConfiguration.Options["awslogs-group"]
	stream := c.LogConfiguration.Options["awslogs-stream-prefix"] + "/" + aws.ToString(c.Name) + "/" + taskID(task)
	if len(res.lines) > 0 {
		if err := d.writeLogs(ctx, group, stream, res.lines); err != nil {
			return nil, err
		}
	}
	d.mu.Lock()
	d.runs = append(d.runs, in)
	d.tasks[task] = res
	d.mu.Unlock()
	return &ecs.RunTaskOutput{Tasks: []ecstypes.Task{{TaskArn: aws.String(task), LastStatus: aws.String("PROVISIONING")}}}, nil
}

func (d *dbEnv) command(ctx context.Context, cmd []string, url string) taskResult {
	if d.fail != nil {
		return d.fail(cmd, url)
	}
	var lines []string
	var err error
	switch cmd[0] {
	case "migrate":
		var r store.MigrateResult
		r, err = store.Migrate(ctx, url, store.MigrateOptions{ExpandOnly: slices.Contains(cmd, "-expand-only")})
		held := []string{}
		for _, m := range r.Held {
			held = append(held, m.Name)
		}
		j, _ := json.Marshal(map[string]any{"from": r.From, "to": r.To, "held": held})
		lines = append(lines, string(j))
	case "seed":
		err = store.Seed(ctx, url)
	default:
		err = fmt.Errorf("unknown command %q", cmd[0])
	}
	if err != nil {
		return taskResult{lines: []string{cmd[0] + ": " + err.Error()}, exit: aws.Int32(1)}
	}
	return taskResult{lines: lines, exit: aws.Int32(0)}
}

func (d *dbEnv) writeLogs(ctx context.Context, group, stream string, lines []string) error {
	if _, err := d.logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	var ev []logtypes.InputLogEvent
	for i, l := range lines {
		ev = append(ev, logtypes.InputLogEvent{Message: aws.String(l), Timestamp: aws.Int64(now + int64(i))})
	}
	_, err := d.logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: ev})
	return err
}

// describeTasks answers RUNNING once, then STOPPED with the exit code
// (or, with none, the reason ECS gives), as ECS reports a one-off task.
func (d *dbEnv) describeTasks(params any, _ func() (any, error)) (any, error) {
	in := params.(*ecs.DescribeTasksInput)
	d.mu.Lock()
	defer d.mu.Unlock()
	out := &ecs.DescribeTasksOutput{}
	for _, arn := range in.Tasks {
		r, ok := d.tasks[arn]
		if !ok {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(arn), Reason: aws.String("MISSING")})
			continue
		}
		r.polls++
		d.tasks[arn] = r
		t := ecstypes.Task{TaskArn: aws.String(arn), LastStatus: aws.String("RUNNING")}
		if r.polls > 1 {
			t.LastStatus, t.StoppedReason = aws.String("STOPPED"), aws.String("Essential container in task exited")
			c := ecstypes.Container{Name: aws.String(taskContainer), ExitCode: r.exit}
			if r.exit == nil {
				t.StoppedReason = aws.String("Task failed to start")
				c.Reason = aws.String(r.reason)
			}
			t.Containers = []ecstypes.Container{c}
		}
		out.Tasks = append(out.Tasks, t)
	}
	return out, nil
}
