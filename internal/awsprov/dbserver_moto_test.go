package awsprov

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rdsdata/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/jackc/pgx/v5"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/sample-app/store"
)

const seedNote = "Seeded by the sample app: every environment starts with this note."

// secretValue reads secret name from moto ("" when it does not exist).
func (d *dbEnv) secretValue(t *testing.T, name string) string {
	t.Helper()
	out, err := d.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	var missing *smtypes.ResourceNotFoundException
	if errors.As(err, &missing) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.SecretString)
}

// connectURL connects with a URL the provider stored (TLS off: the test's
// Postgres has none).
func connectURL(t *testing.T, u string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), strings.Replace(u, "sslmode=require", "sslmode=disable", 1))
	if err != nil {
		t.Fatalf("connect with the stored URL: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func passwordOf(t *testing.T, u string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal("the stored URL does not parse")
	}
	pw, _ := parsed.User.Password()
	if len(pw) < 16 {
		t.Fatalf("password of %s has %d characters, want a generated one", parsed.Redacted(), len(pw))
	}
	return pw
}

// A release refreshes the golden database (built through the Data API,
// migrated and seeded by tasks); a PR's preview database is cloned from
// it, its URL kept in the secret shop/pr-7/database-url, migrated by a
// task that reads that secret, and the deploy stack gets only the
// secret's ARN. Destroying the preview drops database, role and secret.
// No URL or password reaches the progress output.
func TestPreviewDatabaseLifecycleOnAWS(t *testing.T) {
	d := newDBEnv(t)
	ctx := context.Background()
	image := "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop@sha256:" + strings.Repeat("a", 64)

	g, err := d.dbs(d.p).RefreshGolden(ctx, image, "shop-prod-r1")
	if err != nil {
		t.Fatalf("refresh golden: %v", err)
	}
	if g.From != 0 || g.To != store.SchemaHead {
		t.Errorf("golden migrated %d -> %d, want 0 -> %d", g.From, g.To, store.SchemaHead)
	}
	pd, err := d.dbs(d.p).EnsurePreview(ctx, 7)
	if err != nil {
		t.Fatalf("preview database: %v", err)
	}
	if !pd.Cloned || pd.Name != "shop_pr_7" || pd.From != "shop-prod-r1" {
		t.Errorf("preview database = %+v, want shop_pr_7 cloned from shop-prod-r1", pd)
	}
	stored := d.secretValue(t, "shop/pr-7/database-url")
	if stored != pd.URL.Reveal() || !strings.Contains(stored, "shop_pr_7") {
		t.Fatalf("secret shop/pr-7/database-url does not hold the preview's URL (%s)", pd.URL)
	}
	pw := passwordOf(t, stored)
	var n int
	if err := connectURL(t, stored).QueryRow(ctx, "SELECT count(*) FROM notes WHERE body = $1", seedNote).Scan(&n); err != nil || n != 1 {
		t.Errorf("the preview role reads the seeded note from its clone: %d, %v; want 1", n, err)
	}

	m, err := d.dbs(d.p).Migrate(ctx, image, pd.URL, false)
	if err != nil || m.To != store.SchemaHead {
		t.Fatalf("migrate the preview: %+v, %v", m, err)
	}
	if v, err := d.dbs(d.p).Schema(ctx, pd.URL); err != nil || v != store.SchemaHead {
		t.Errorf("Schema through the Data API = %d, %v; want %d", v, err, store.SchemaHead)
	}
	again, err := d.dbs(d.p).EnsurePreview(ctx, 7)
	if err != nil || again.Cloned || again.URL.Reveal() != pd.URL.Reveal() {
		t.Errorf("a re-deploy's database: cloned %v, same URL %v, %v; want kept with the same URL", again.Cloned, again.URL.Reveal() == pd.URL.Reveal(), err)
	}
	d.checkTaskRuns(t, "shop-prod-migrate", "shop-pr-migrate")

	spec := previewSpec(dbApp, 7, "")
	spec.Env = map[string]string{"APP_MESSAGE": "hi", deploy.DatabaseURLEnv: pd.URL.Reveal()}
	if _, err := d.p.Deploy(ctx, spec); err != nil {
		t.Fatalf("deploy the preview with its database: %v", err)
	}
	d.checkStackParams(t, spec.Stack, "shop/pr-7/database-url", pw)

	if prs, err := d.dbs(d.p).Previews(ctx); err != nil || len(prs) != 1 || prs[0] != 7 {
		t.Errorf("Previews = %v, %v; want [7]", prs, err)
	}
	if err := d.dbs(d.p).DropPreview(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if v := d.secretValue(t, "shop/pr-7/database-url"); v != "" {
		t.Error("the preview's secret survived DropPreview")
	}
	if prs, err := d.dbs(d.p).Previews(ctx); err != nil || len(prs) != 0 {
		t.Errorf("Previews after the drop = %v, %v; want none", prs, err)
	}
	if _, err := pgx.Connect(ctx, strings.Replace(stored, "sslmode=require", "sslmode=disable", 1)); err == nil {
		t.Error("the dropped preview's role still connects")
	}
	if err := d.dbs(d.p).DropPreview(ctx, 7); err != nil {
		t.Errorf("dropping a dropped preview: %v, want nothing to do", err)
	}
	if out := d.log.String(); strings.Contains(out, pw) || strings.Contains(out, "postgres://") {
		t.Errorf("the progress output shows a database URL or password:\n%s", out)
	}
}

// checkTaskRuns checks every one-off task ran with the URL as a secret
// (never in the overrides), on Fargate in the app's subnets, from the
// families the IAM policies let the roles run.
func (d *dbEnv) checkTaskRuns(t *testing.T, families ...string) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := map[string]bool{}
	for _, in := range d.runs {
		td := aws.ToString(in.TaskDefinition)
		fam := td[strings.LastIndex(td, "/")+1 : strings.LastIndex(td, ":")]
		seen[fam] = true
		co := in.Overrides.ContainerOverrides[0]
		if len(co.Environment) > 0 || in.NetworkConfiguration == nil || len(in.NetworkConfiguration.AwsvpcConfiguration.Subnets) == 0 || in.LaunchType != "FARGATE" {
			t.Errorf("RunTask %s: environment %v, network %+v, launch %s; want no environment override, the app's subnets, Fargate", td, co.Environment, in.NetworkConfiguration, in.LaunchType)
		}
		out, err := d.ecs.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(td)})
		if err != nil || out.TaskDefinition.Status != "INACTIVE" {
			t.Errorf("task definition %s after its run: %v; want it deregistered (INACTIVE)", td, err)
		}
	}
	for _, f := range families {
		if !seen[f] {
			t.Errorf("no task of family %s ran (ran %v)", f, seen)
		}
	}
}

// checkStackParams checks the deploy stack got the secret's ARN and no
// parameter holds the password.
func (d *dbEnv) checkStackParams(t *testing.T, stack, secret, pw string) {
	t.Helper()
	out, err := cloudformation.NewFromConfig(motoConfig(d.endpoint())).DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		t.Fatal(err)
	}
	var arn string
	for _, p := range out.Stacks[0].Parameters {
		v := aws.ToString(p.ParameterValue)
		if strings.Contains(v, pw) || strings.Contains(v, "postgres://") {
			t.Errorf("stack parameter %s holds the database URL or password", aws.ToString(p.ParameterKey))
		}
		if aws.ToString(p.ParameterKey) == "DatabaseSecretArn" {
			arn = v
		}
		if aws.ToString(p.ParameterKey) == "Environment" && strings.Contains(v, deploy.DatabaseURLEnv) {
			t.Errorf("stack environment names %s: want it as a secret only", deploy.DatabaseURLEnv)
		}
	}
	if !strings.Contains(arn, ":secret:"+secret) {
		t.Errorf("DatabaseSecretArn = %q, want the ARN of %s", arn, secret)
	}
}

// A migrate task that exits non-zero fails with its own log lines (the
// URL and password taken out) in a *deploy.MigrationError; one that never
// started says why ECS stopped it.
func TestFailedMigrationTaskOnAWS(t *testing.T) {
	d := newDBEnv(t)
	ctx := context.Background()
	prod, err := d.dbs(d.p).Production(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pw := passwordOf(t, prod.Reveal())
	d.fail = func(cmd []string, u string) taskResult {
		return taskResult{exit: aws.Int32(1), lines: []string{
			"goose: connecting to " + u,
			`goose run: ERROR 00004_rename.sql: failed to run SQL migration: ERROR: column "body" does not exist (SQLSTATE 42703)`,
		}}
	}
	_, err = d.dbs(d.p).Migrate(ctx, "img@sha256:"+strings.Repeat("b", 64), prod, true)
	var me *deploy.MigrationError
	if !errors.As(err, &me) {
		t.Fatalf("failed migrate task: %v, want a *deploy.MigrationError", err)
	}
	if me.ExitCode != 1 || me.Database != "shop" || !strings.Contains(me.Output, `column "body" does not exist`) {
		t.Errorf("MigrationError = %+v, want exit 1 on shop with the task's log line", me)
	}
	if strings.Contains(err.Error(), pw) || !strings.Contains(me.Output, "xxxxx") {
		t.Errorf("the error shows the password or lost the redacted URL line:\n%s", err)
	}
	d.mu.Lock()
	cmd := d.runs[len(d.runs)-1].Overrides.ContainerOverrides[0].Command
	d.mu.Unlock()
	if strings.Join(cmd, " ") != "migrate -expand-only" {
		t.Errorf("command override = %v, want migrate -expand-only", cmd)
	}
	// The output came from the stream awslogs names <prefix>/<container>/<task
	// ID> (Amazon ECS Developer Guide, "Send Amazon ECS logs to
	// CloudWatch"), the prefix being the task's family: the preview role
	// reads <app>-pr-* streams only, so never production's migrations.
	streams, err := d.logs.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/slipway/shop"), LogStreamNamePrefix: aws.String("shop-prod-migrate/migrate/")})
	if err != nil || len(streams.LogStreams) == 0 {
		t.Errorf("no production migration stream under shop-prod-migrate/migrate/: %v", err)
	}

	d.fail = func([]string, string) taskResult {
		return taskResult{reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found"}
	}
	_, err = d.dbs(d.p).Migrate(ctx, "img@sha256:"+strings.Repeat("c", 64), prod, true)
	if !errors.As(err, &me) || me.ExitCode != -1 || !strings.Contains(me.Output, "CannotPullContainerError") {
		t.Errorf("task that never started: %v, want a MigrationError with ECS's reason", err)
	}
	if out := d.log.String(); strings.Contains(out, pw) {
		t.Errorf("the progress output shows the password:\n%s", out)
	}
}

// Production's URL lives in shop/prod/database-url and keeps its
// password between releases, so blue and green stacks share it.
//
// The first statements meet a paused cluster: AWS answers
// DatabaseResumingException while an Aurora Serverless v2 cluster at 0 ACU
// wakes up; the statement is sent again until it runs.
func TestProductionDatabaseKeepsItsURLOnAWS(t *testing.T) {
	d := newDBEnv(t)
	ctx := context.Background()
	run := d.inj.hook("ExecuteStatement")
	d.inj.on("ExecuteStatement", func(params any, next func() (any, error)) (any, error) {
		if d.inj.count("ExecuteStatement") <= 2 {
			return nil, &rdstypes.DatabaseResumingException{Message: aws.String("The Aurora DB instance db-ABC is resuming after being auto-paused. Please wait a few seconds and try again.")}
		}
		return run(params, next)
	})
	a, err := d.dbs(d.p).Production(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.dbs(d.p).Production(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.Reveal() != b.Reveal() || d.secretValue(t, "shop/prod/database-url") != a.Reveal() || a.Database() != "shop" {
		t.Errorf("production URL changed between releases or is not the one in shop/prod/database-url (%s, %s)", a, b)
	}
	if strings.Contains(a.String(), passwordOf(t, a.Reveal())) {
		t.Errorf("String() = %s shows the password", a)
	}
	connectURL(t, a.Reveal())
}
