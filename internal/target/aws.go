package target

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/awsenv"
	"github.com/slipway/slipway/internal/awsprov"
	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/config"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/image"
)

// openAWS is the aws target: the SDK configuration (its credential chain,
// the retryer), the provider, ECR push and the URLs.
func openAWS(ctx context.Context, c config.Config, choice Choice, o Options) (Target, error) {
	cfg, err := awsenv.Load(ctx, awsenv.Settings{Region: c.AWSRegion, Endpoint: c.AWSEndpoint})
	if err != nil {
		return Target{}, err
	}
	existing, err := existingPreviewDatabases(o.Env)
	if err != nil {
		return Target{}, err
	}
	shared := infra.SharedParams{VPCID: c.AWS.VPCID, SubnetIDs: c.AWS.SubnetIDs, CertificateARN: c.AWS.CertificateARN,
		PreviewPortFirst: c.AWS.PortFirst, PreviewPortLast: c.AWS.PortLast, Database: o.Database.On}
	if c.AWS.HostMode() {
		shared.Domain, shared.HostedZoneID = c.Domain, c.AWS.HostedZoneID
	}
	shared.PreviewDomain, shared.PreviewHostedZoneID, shared.PreviewCertificateARN = c.AWS.PreviewDomain, c.AWS.PreviewHostedZoneID, c.AWS.PreviewCertificateARN
	health, _ := c.HealthTimeoutInForce() // at least config.MinAWSHealthTimeout; `config` says so
	registry := ecr.NewFromConfig(cfg)
	p := awsprov.New(awsprov.Clients{CFN: cloudformation.NewFromConfig(cfg), ELB: elbv2.NewFromConfig(cfg), ECS: ecs.NewFromConfig(cfg), ECR: registry,
		DDB: dynamodb.NewFromConfig(cfg), CW: cloudwatch.NewFromConfig(cfg), DB: awsprov.DBClients{Data: rdsdata.NewFromConfig(cfg),
			Secrets: secretsmanager.NewFromConfig(cfg), Tasks: ecs.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg)}},
		awsprov.Options{App: c.App, Shared: shared, CPU: c.AWS.CPU, Memory: c.AWS.Memory,
			HealthTimeout: health, Log: o.Log, ExistingPreviewDatabases: existing})
	return Target{
		Target: p, Choice: choice, Config: c, AWS: p,
		Routing: awsRouting{cfg: c, p: p},
		Builder: &ecrBuilder{b: o.Builder, api: registry, mirror: c.AWS.RegistryMirror, repo: sharedRepository(p)},
	}, nil
}

// ecrBuilder builds the app image and pushes it to the shared stack's ECR
// repository (through the mirror when one is set) with an ECR login; the
// image is deployed as <repository URI>@<digest>.
type ecrBuilder struct {
	b      *build.Builder // the session's: local names, archive, engine
	api    image.ECRTokens
	mirror string
	repo   func(ctx context.Context, purpose string) (uri, name string, err error)
}

func (e *ecrBuilder) Build(ctx context.Context, purpose string) (deploy.Image, error) {
	uri, name, err := e.repo(ctx, purpose)
	if err != nil {
		return deploy.Image{}, err
	}
	login, err := image.LoginECR(ctx, e.api, e.mirror)
	if err != nil {
		return deploy.Image{}, err
	}
	b := *e.b // this push's registry and names; the session's builder keeps its own
	b.Registry, b.Auth, b.AppImage = login.Host, login.Auth, name
	if b.LoadArchive != "" {
		if err := e.retagArchive(ctx, name); err != nil {
			return deploy.Image{}, err
		}
	}
	img, err := b.Build(ctx, purpose)
	if err != nil {
		return img, err
	}
	if img.Ref, err = image.ByDigest(uri, img.Digest); err != nil {
		return img, err
	}
	return img, nil
}

// retagArchive loads the image archive (a fork's build, named by
// SLIPWAY_APP_IMAGE) and tags its image <repo>:<sha7>, the name the push
// loads it by.
func (e *ecrBuilder) retagArchive(ctx context.Context, repo string) error {
	rev := e.b.Rev
	if rev == nil {
		r, err := build.Detect(ctx, e.b.ModuleDir)
		if err != nil {
			return err
		}
		rev = &r
	}
	img, err := build.Load(ctx, e.b.Archiver, e.b.AppImage, rev.Commit, e.b.LoadArchive)
	if err != nil {
		return err
	}
	return image.Tag(ctx, e.b.Engine, img.Ref, repo+":"+rev.Commit[:7])
}

// sharedRepository is the shared stack's ECR repository for an image's
// purpose: a release's, or the previews' for any other (the preview role
// may push nowhere else). The stack is created first if it does not exist
// yet.
func sharedRepository(p *awsprov.Provider) func(context.Context, string) (string, string, error) {
	return func(ctx context.Context, purpose string) (string, string, error) {
		if err := p.EnsureShared(ctx); err != nil {
			return "", "", fmt.Errorf("ensure shared stack: %w", err)
		}
		s, err := p.Shared(ctx)
		role := infra.RolePreview
		if purpose == "release" {
			role = infra.RoleProduction
		}
		s = s.ForRole(role)
		return s.RepositoryURI, s.RepositoryName, err
	}
}

// awsRouting gives the URLs of the aws target: host names under the
// domain with a hosted zone, else ports on the shared ALB.
type awsRouting struct {
	cfg config.Config
	p   *awsprov.Provider
}

func (r awsRouting) PreviewHost(label string) string {
	if r.cfg.AWS.PreviewHostMode() {
		return r.cfg.AWSPreviewHost(label)
	}
	return label + "." + r.cfg.App // a key: the URL is the ALB's name and the preview's port
}

func (r awsRouting) ProductionHost() string {
	if r.cfg.AWS.HostMode() {
		return r.cfg.AWSProductionHost()
	}
	return r.albName()
}

func (r awsRouting) URL(host string) string {
	if r.cfg.AWS.HostMode() && host == r.cfg.AWSProductionHost() {
		return r.cfg.AWSScheme() + "://" + host
	}
	if r.cfg.AWS.PreviewHostMode() && host != r.albName() {
		return r.cfg.AWSPreviewScheme() + "://" + host
	}
	alb := r.albName()
	if host == alb {
		return "http://" + alb
	}
	if port, ok := r.p.Port(host); ok {
		return fmt.Sprintf("http://%s:%d", r.previewALBName(), port)
	}
	return "http://" + r.previewALBName() + ":<port given at deploy>"
}

func (r awsRouting) Dial(host string) (string, string) { return r.URL(host), "" }

// albName is the shared ALB's DNS name, read once from the shared stack.
func (r awsRouting) albName() string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := r.p.Shared(ctx)
	if err != nil {
		return "<shared ALB: " + err.Error() + ">"
	}
	return s.LoadBalancerDNSName
}

// previewALBName is the previews ALB's DNS name (previews get its ports
// without a domain), read once from the shared stack.
func (r awsRouting) previewALBName() string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := r.p.Shared(ctx)
	if err != nil {
		return "<previews ALB: " + err.Error() + ">"
	}
	return s.Previews.LoadBalancerDNSName
}

// existingPreviewDatabases reads SLIPWAY_PREVIEW_DATABASE: "create" (or
// unset: a preview creates its database, or uses the existing one by its
// secret when its role may not) or "existing" (it only ever uses the one
// preview:database made: the preview workflows, so a deploy never races
// preview-database.yml).
func existingPreviewDatabases(env func(string) string) (bool, error) {
	switch v := strings.TrimSpace(env("SLIPWAY_PREVIEW_DATABASE")); v {
	case "", "create":
		return false, nil
	case "existing":
		return true, nil
	default:
		return false, fmt.Errorf("configuration: SLIPWAY_PREVIEW_DATABASE=%q: want create or existing", v)
	}
}
