package awsprov

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rdsdata/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/sample-app/store"
)

const previewRole = "arn:aws:sts::123456789012:assumed-role/shop-preview/GitHubActions"

// actAsPreviewRole makes every call the preview role's IAM policy
// (infra/iam/preview-role.json) refuses answer as AWS does: an explicit
// Deny or no Allow is AccessDeniedException, before the service looks at
// the request (so a missing secret is AccessDenied too, not NotFound).
// The Data API answers its own AccessDeniedException type. Moto checks no
// IAM, so the refusal is injected in front of it.
func (d *dbEnv) actAsPreviewRole() {
	deny := func(action string) hook {
		return func(any, func() (any, error)) (any, error) {
			msg := "User: " + previewRole + " is not authorized to perform: " + action + " with an explicit deny in an identity-based policy"
			if strings.HasPrefix(action, "rds-data:") {
				return nil, &rdstypes.AccessDeniedException{Message: aws.String(msg)}
			}
			return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: msg}
		}
	}
	d.inj.on("ExecuteStatement", deny("rds-data:ExecuteStatement"))
	for _, op := range []string{"GetSecretValue", "CreateSecret", "PutSecretValue", "DeleteSecret", "TagResource"} {
		d.inj.on(op, deny("secretsmanager:"+op))
	}
}

// previewProvider is a second process: the preview job's.
func (d *dbEnv) previewProvider(wait time.Duration) *Provider {
	p := d.provider(dbApp, "")
	p.db = d.p.db
	p.o.DatabaseWait = wait
	return p
}

func secretTags(t *testing.T, d *dbEnv, name string) map[string]string {
	t.Helper()
	out, err := d.sm.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, tg := range out.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return tags
}

// The trust split end to end: the trusted step (release role, default
// branch code) clones the PR's database and tags its secret; the preview
// job (preview role: no Data API, no secret values, no secret writes)
// finds the secret by name, migrates the database with the PR's image in
// a task that reads the secret through the preview execution role, and
// deploys a stack that gets only the secret's ARN. The URL the trusted
// step stored is never rewritten, and no password reaches the output.
func TestPreviewRoleUsesTheTrustedStepsDatabase(t *testing.T) {
	d := newDBEnv(t)
	ctx := context.Background()
	image := "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop@sha256:" + strings.Repeat("a", 64)
	if _, err := d.dbs(d.p).RefreshGolden(ctx, image, "shop-prod-r1"); err != nil {
		t.Fatalf("refresh golden: %v", err)
	}
	trusted, err := d.dbs(d.p).EnsurePreview(ctx, 7)
	if err != nil || !trusted.Cloned {
		t.Fatalf("trusted step: %+v, %v; want a clone", trusted, err)
	}
	tags := secretTags(t, d, "shop/pr-7/database-url")
	if tags[TagDatabaseFrom] != "shop-prod-r1" || tags[TagPR] != "7" || tags[TagApp] != dbApp {
		t.Errorf("secret tags = %v, want %s=shop-prod-r1, %s=7, %s=shop", tags, TagDatabaseFrom, TagPR, TagApp)
	}
	stored := d.secretValue(t, "shop/pr-7/database-url")
	pw := passwordOf(t, stored)

	d.actAsPreviewRole()
	pv := d.previewProvider(time.Second)
	pd, err := d.dbs(pv).EnsurePreview(ctx, 7)
	if err != nil {
		t.Fatalf("preview role: %v", err)
	}
	if pd.Name != "shop_pr_7" || pd.From != "shop-prod-r1" || !pd.Cloned {
		t.Errorf("preview role's database = %+v, want shop_pr_7 cloned from shop-prod-r1", pd)
	}
	if strings.Contains(pd.URL.Reveal(), "postgres://") || strings.Contains(pd.URL.String(), pw) {
		t.Errorf("the preview role holds a URL (%s): it must know the secret only", pd.URL)
	}
	m, err := d.dbs(pv).Migrate(ctx, image, pd.URL, false)
	if err != nil || m.To != store.SchemaHead {
		t.Fatalf("the preview role migrates its database: %+v, %v; want schema %d", m, err, store.SchemaHead)
	}
	d.checkTaskRuns(t, "shop-pr-migrate")

	spec := previewSpec(dbApp, 7, "")
	spec.Env = map[string]string{"APP_MESSAGE": "hi", deploy.DatabaseURLEnv: pd.URL.Reveal()}
	if _, err := pv.Deploy(ctx, spec); err != nil {
		t.Fatalf("the preview role deploys with its database: %v", err)
	}
	d.checkStackParams(t, spec.Stack, "shop/pr-7/database-url", pw)
	if d.secretValue(t, "shop/pr-7/database-url") != stored {
		t.Error("the preview's secret changed: the preview role must not write it")
	}

	d.fail = func(_ []string, u string) taskResult {
		return taskResult{exit: aws.Int32(1), lines: []string{"goose: connecting to " + u, "goose run: ERROR 00003_x.sql: syntax error"}}
	}
	_, err = d.dbs(pv).Migrate(ctx, image, pd.URL, false)
	var me *deploy.MigrationError
	if !errors.As(err, &me) || !strings.Contains(me.Output, "syntax error") || strings.Contains(err.Error(), pw) {
		t.Errorf("a failed migrate under the preview role: %v; want its lines without the password", err)
	}
	if out := d.log.String(); strings.Contains(out, pw) || strings.Contains(out, "postgres://shop_pr_7:") {
		t.Errorf("the progress output shows the preview's password:\n%s", out)
	}
}

// Without the trusted step's secret the preview role waits (bounded) and
// then says which workflow to run; a secret that appears while it waits
// (the workflow finishing) is used. With SLIPWAY_PREVIEW_DATABASE=existing
// (the preview workflows) even a role that could create the database
// does not: no statement runs, so it never races preview-database.yml.
func TestPreviewRoleWaitsForTheTrustedStep(t *testing.T) {
	d := newDBEnv(t)
	ctx := context.Background()

	existing := d.previewProvider(200 * time.Millisecond)
	existing.o.ExistingPreviewDatabases = true
	statements := d.inj.count("ExecuteStatement")
	_, err := d.dbs(existing).EnsurePreview(ctx, 5)
	if !errors.Is(err, ErrPreviewDatabaseMissing) || !strings.Contains(err.Error(), "SLIPWAY_PREVIEW_DATABASE=existing") {
		t.Errorf("existing mode without a secret: %v; want ErrPreviewDatabaseMissing saying why it did not create one", err)
	}
	if n := d.inj.count("ExecuteStatement") - statements; n != 0 {
		t.Errorf("existing mode ran %d statements; want none", n)
	}

	d.actAsPreviewRole()

	_, err = d.dbs(d.previewProvider(200*time.Millisecond)).EnsurePreview(ctx, 8)
	if !errors.Is(err, ErrPreviewDatabaseMissing) || !strings.Contains(err.Error(), "preview-database workflow") ||
		!strings.Contains(err.Error(), "go run mage.go preview:database -pr=8") || !strings.Contains(err.Error(), "shop/pr-8/database-url") {
		t.Fatalf("no secret: %v; want ErrPreviewDatabaseMissing naming the secret and the workflow to run", err)
	}

	go func() { // the preview-database workflow, finishing later
		time.Sleep(300 * time.Millisecond)
		_, _ = d.sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("shop/pr-9/database-url"),
			SecretString: aws.String("postgres://shop_pr_9:pw@db:5432/shop_pr_9"),
			Tags:         []smtypes.Tag{{Key: aws.String(TagDatabaseFrom), Value: aws.String("shop-prod-r2")}}})
	}()
	pd, err := d.dbs(d.previewProvider(10*time.Second)).EnsurePreview(ctx, 9)
	if err != nil || pd.Name != "shop_pr_9" || pd.From != "shop-prod-r2" {
		t.Fatalf("secret created while waiting: %+v, %v; want shop_pr_9 from shop-prod-r2", pd, err)
	}
	if !strings.Contains(d.log.String(), "waiting up to 10s for secret shop/pr-9/database-url") {
		t.Errorf("the wait is not said:\n%s", d.log.String())
	}
}

// A deploy whose DATABASE_URL names another PR's secret is refused: a
// reference is only ever the stack's own PR's secret.
func TestDatabaseSecretRefIsThePRsOwn(t *testing.T) {
	const own = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/pr-7/database-url-AbCdEf"
	cases := []struct {
		name, v string
		ref, ok bool
	}{
		{"a URL is no reference", "postgres://u:p@h/db", false, true},
		{"its own secret", secretRefPrefix + own, true, true},
		{"another PR's secret", secretRefPrefix + strings.Replace(own, "pr-7", "pr-70", 1), true, false},
		{"production's secret", secretRefPrefix + strings.Replace(own, "pr-7", "prod", 1), true, false},
		{"not an ARN", secretRefPrefix + "shop/pr-7/database-url", true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			arn, ref, err := secretRef(c.v, "shop/pr-7/database-url")
			if ref != c.ref || (err == nil) != c.ok || c.ok && c.ref && arn != own {
				t.Errorf("secretRef(%q) = %q, %v, %v", c.v, arn, ref, err)
			}
		})
	}
}

// preview:deploy as preview.yml runs it with the preview role and the
// database on: the orchestration uses the database preview-database.yml
// made, migrates it, deploys and tests, and says where it came from.
func TestPreviewDeployWithTheDatabaseUnderThePreviewRole(t *testing.T) {
	d := newDBEnv(t)
	ctx := context.Background()
	if _, err := d.dbs(d.p).RefreshGolden(ctx, image(1).Ref, "shop-prod-r1"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.dbs(d.p).CreatePreview(ctx, 7); err != nil { // preview-database.yml
		t.Fatal(err)
	}
	pw := passwordOf(t, d.secretValue(t, "shop/pr-7/database-url"))

	d.actAsPreviewRole()
	pv := d.previewProvider(time.Second)
	shared, err := pv.Shared(ctx)
	must(t, err)
	f := &deploy.Flow{App: dbApp, Target: pv, Builder: &fixedImage{img: image(2)}, Tester: passTester{}, Log: d.log,
		Routing: portRouting{p: pv, alb: shared.LoadBalancerDNSName}, Database: true}
	res, err := f.DeployPreview(ctx, deploy.PreviewRequest{PR: 7})
	if err != nil {
		t.Fatalf("preview deploy under the preview role: %v\n%s", err, d.log.String())
	}
	if db := res.Database; db == nil || db.Name != "shop_pr_7" || db.Released != "shop-prod-r1" || db.Head != store.SchemaHead {
		t.Errorf("preview database %+v; want shop_pr_7 from shop-prod-r1 at schema %d", res.Database, store.SchemaHead)
	}
	d.checkStackParams(t, res.Stack, "shop/pr-7/database-url", pw)
	if _, err := d.dbs(d.p).CreatePreview(ctx, 8); err == nil || !accessDenied(err) {
		t.Errorf("the trusted step under the preview role: %v; want AccessDenied, not the database by name", err)
	}
}
