package awsprov

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/slipway/slipway/internal/database"
	"github.com/slipway/slipway/internal/deploy"
)

// The aws target's deploy.DatabaseServer, the primitives of the database
// flow (package deploy holds the algorithm), on the shared stack's Aurora
// cluster: admin statements go through the RDS Data API as the
// RDS-managed master user (dbexec.go), migrations and seeds run as
// one-off ECS tasks of the app's image (dbrun.go). Each database URL
// (with a generated password for the database's own role) is kept in
// Secrets Manager under a name made of the app and the PR number only,
// and a stack or task gets it as a secret, by ARN: the URL is never a
// stack parameter, a task override or a line of output.

// DBClients are the API clients the database needs.
type DBClients struct {
	Data    DataAPI
	Secrets Secrets
	Tasks   Tasks
	Logs    Logs
}

func (c DBClients) complete() bool {
	return c.Data != nil && c.Secrets != nil && c.Tasks != nil && c.Logs != nil
}

// Secrets is the part of Secrets Manager Slipway calls.
type Secrets interface {
	CreateSecret(ctx context.Context, in *secretsmanager.CreateSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	DeleteSecret(ctx context.Context, in *secretsmanager.DeleteSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	TagResource(ctx context.Context, in *secretsmanager.TagResourceInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.TagResourceOutput, error)
	ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error)
}

var _ Secrets = (*secretsmanager.Client)(nil)

// Secret names: <app>/pr-<n>/database-url, <app>/prod/database-url,
// <app>/golden/database-url. The deploy template's execution roles read
// <app>/pr-* (previews) and <app>/* (releases).
func (p *Provider) previewSecret(pr int) string {
	return p.o.App + "/pr-" + strconv.Itoa(pr) + "/database-url"
}
func (p *Provider) productionSecret() string { return p.o.App + "/prod/database-url" }

// secretName is the secret that holds db's URL.
func (p *Provider) secretName(db deploy.DatabaseID) string {
	switch db.Role {
	case deploy.RolePreview:
		return p.previewSecret(db.PR)
	case deploy.RoleGolden:
		return p.o.App + "/golden/database-url"
	}
	return p.productionSecret()
}

// errNoDatabaseClients is the error of a database operation on a provider
// built without the RDS Data API, Secrets Manager and ECS clients (Clients.DB).
var errNoDatabaseClients = errors.New("the aws target was built without its database clients (RDS Data API, Secrets Manager, ECS tasks)")

// dbURL is a database URL and the secret that holds it.
type dbURL struct {
	database.URL
	secretARN string
	preview   bool // a preview's: its task runs with the preview execution role
	ref       bool // known by its secret only (dbtrust.go): the URL was never read
}

// OpenDatabaseAdmin implements deploy.DatabaseServer: the admin on the
// shared stack's cluster, through the Data API (which resumes a paused
// cluster: dbexec.go retries meanwhile). The cluster exists as long as the
// shared stack does, so start changes nothing.
func (p *Provider) OpenDatabaseAdmin(ctx context.Context, _ bool) (deploy.DatabaseAdmin, error) {
	if !p.db.complete() {
		return nil, errNoDatabaseClients
	}
	shared, err := p.Shared(ctx)
	if err != nil {
		return nil, err
	}
	db := shared.Database
	if db == nil {
		return nil, fmt.Errorf("the shared stack of %s has no database: deploy it with the database on (SLIPWAY_DATABASE=1 go run mage.go shared:deploy)", p.o.App)
	}
	x := dataAPI{api: p.db.Data, clusterARN: db.ClusterARN, secretARN: db.SecretARN, resumeWait: 2 * p.o.Poll}
	a, err := database.New(ctx, x, database.Config{AdminDB: "postgres", AppHost: net.JoinHostPort(db.Endpoint, strconv.Itoa(db.Port)), SSLMode: "require"})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// storeURL writes u to secret name (created when missing, tagged with the
// app) and returns the secret's ARN.
func (p *Provider) storeURL(ctx context.Context, name string, u database.URL) (string, error) {
	arn, err := p.storeSecret(ctx, name, u.Reveal(), "DATABASE_URL of "+u.Database()+" (slipway)")
	if err != nil {
		return "", fmt.Errorf("store the URL of database %s in secret %s: %w", u.Database(), name, err)
	}
	return arn, nil
}

func (p *Provider) storeSecret(ctx context.Context, name, value, what string) (string, error) {
	out, err := p.db.Secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(value), Description: aws.String(what),
		Tags: []smtypes.Tag{{Key: aws.String(TagApp), Value: aws.String(p.o.App)}},
	})
	if err == nil {
		return aws.ToString(out.ARN), nil
	}
	var exists *smtypes.ResourceExistsException
	if !errors.As(err, &exists) {
		return "", err
	}
	put, err := p.db.Secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		return "", err
	}
	return aws.ToString(put.ARN), nil
}

// databaseSecret takes DATABASE_URL out of a deploy's environment and
// returns the ARN of the secret holding it (<app>/pr-<n>/database-url for
// a preview, <app>/prod/database-url for a release), which the
// stack's task reads: the stack's parameters carry the ARN only. Without
// DATABASE_URL it returns env as it is and no ARN.
func (p *Provider) databaseSecret(ctx context.Context, s deploy.Spec) (map[string]string, string, error) {
	v, ok := s.Env[deploy.DatabaseURLEnv]
	if !ok {
		return s.Env, "", nil
	}
	var name string
	switch {
	case s.Role == deploy.RolePreview && s.PR > 0:
		name = p.previewSecret(s.PR)
	case s.Role == deploy.RoleProduction:
		name = p.productionSecret()
	default:
		return nil, "", fmt.Errorf("stack %s: a %s stack without a PR number gets no database secret (only previews of a PR and releases do)", s.Stack, s.Role)
	}
	if p.db.Secrets == nil {
		return nil, "", fmt.Errorf("stack %s: %s is set: %w", s.Stack, deploy.DatabaseURLEnv, errNoDatabaseClients)
	}
	arn, isRef, err := secretRef(v, name)
	if err != nil {
		return nil, "", fmt.Errorf("stack %s: %w", s.Stack, err)
	}
	if !isRef { // a URL this process knows: store it; a reference is the stored one
		if arn, err = p.storeSecret(ctx, name, v, "DATABASE_URL of stack "+s.Stack+" (slipway)"); err != nil {
			return nil, "", fmt.Errorf("stack %s: store its database URL in secret %s: %w", s.Stack, name, err)
		}
	}
	env := make(map[string]string, len(s.Env))
	for k, val := range s.Env {
		if k != deploy.DatabaseURLEnv {
			env[k] = val
		}
	}
	return env, arn, nil
}

// storedPassword is the password of the URL in secret name ("" when there
// is no such secret), so a re-deploy keeps its URL.
func (p *Provider) storedPassword(ctx context.Context, name string) (string, error) {
	out, err := p.db.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	var missing *smtypes.ResourceNotFoundException
	if errors.As(err, &missing) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read secret %s: %w", name, err)
	}
	u, err := url.Parse(aws.ToString(out.SecretString))
	if err != nil || u.User == nil {
		return "", fmt.Errorf("secret %s holds no database URL: delete it and deploy again", name) // the parse error would quote the URL
	}
	pw, _ := u.User.Password()
	return pw, nil
}

// DatabasePassword implements deploy.DatabaseServer: the one in db's
// secret, so a re-deploy keeps its URL, or a new one; the golden copy's
// role gets a new one each refresh.
func (p *Provider) DatabasePassword(ctx context.Context, db deploy.DatabaseID) (string, error) {
	if !p.db.complete() {
		return "", errNoDatabaseClients
	}
	if db.Role != deploy.RoleGolden {
		pw, err := p.storedPassword(ctx, p.secretName(db))
		if err != nil || pw != "" {
			return pw, err
		}
	}
	return database.NewPassword()
}

// KeepDatabaseURL implements deploy.DatabaseServer: u goes to db's secret
// (created when missing, tagged with the app; a preview's also with its
// PR and from, the release its golden copy was built by), and stacks and
// tasks get the secret's ARN.
func (p *Provider) KeepDatabaseURL(ctx context.Context, db deploy.DatabaseID, u database.URL, from string) (deploy.SecretURL, error) {
	if !p.db.complete() {
		return nil, errNoDatabaseClients
	}
	name := p.secretName(db)
	arn, err := p.storeURL(ctx, name, u)
	if err != nil {
		return nil, err
	}
	if db.Role != deploy.RolePreview {
		return dbURL{URL: u, secretARN: arn}, nil
	}
	if err := p.tagPreviewSecret(ctx, arn, db.PR, from); err != nil {
		return nil, err
	}
	p.logf("database %s: URL kept in secret %s", u.Database(), name)
	return dbURL{URL: u, secretARN: arn, preview: true}, nil
}

// ForgetDatabaseURL implements deploy.DatabaseServer: db's secret is
// deleted without a recovery window (the URL names a role that no longer
// exists); no secret is fine.
func (p *Provider) ForgetDatabaseURL(ctx context.Context, db deploy.DatabaseID) error {
	if !p.db.complete() {
		return errNoDatabaseClients
	}
	name := p.secretName(db)
	_, err := p.db.Secrets.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), ForceDeleteWithoutRecovery: aws.Bool(true)})
	var missing *smtypes.ResourceNotFoundException
	if err != nil && !errors.As(err, &missing) {
		return fmt.Errorf("delete secret %s: %w", name, err)
	}
	return nil
}

// PreviewDatabase implements deploy.DatabaseServer, the trust split
// (dbtrust.go): with ExistingPreviewDatabases, or when AWS answers
// AccessDenied to create (the preview role may not administer databases),
// it gets the database the preview-database workflow created, by its
// secret's name.
func (p *Provider) PreviewDatabase(ctx context.Context, pr int, create func(context.Context) (deploy.PreviewDatabase, error)) (deploy.PreviewDatabase, error) {
	if p.o.ExistingPreviewDatabases {
		return p.existingPreviewDatabase(ctx, pr, "SLIPWAY_PREVIEW_DATABASE=existing")
	}
	db, err := create(ctx)
	if accessDenied(err) {
		return p.existingPreviewDatabase(ctx, pr, "this role may not create databases (the preview role)")
	}
	return db, err
}

// ImageSchemaHead implements deploy.DatabaseServer: the aws target reads
// no image labels (its stacks name no schema either), so it cannot tell,
// and every migrate runs its task.
func (p *Provider) ImageSchemaHead(context.Context, string) (int64, error) { return 0, nil }
