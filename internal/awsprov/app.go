package awsprov

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/deploy"
)

// appParams are a deploy stack's settings from the app's manifest (port,
// health check, secrets by ARN) and its image (architecture), checked
// once per deploy.
func (p *Provider) appParams(ctx context.Context, s deploy.Spec, shared infra.SharedOutputs) (infra.DeployParams, error) {
	h := s.Health
	dp := infra.DeployParams{ContainerPort: s.Port, HealthPath: h.Path, HealthInterval: h.Interval, HealthTimeout: h.Timeout,
		HealthyThreshold: h.HealthyThreshold, UnhealthyThreshold: h.UnhealthyThreshold, HealthGrace: h.Grace, Platform: s.Platform}
	arch, err := infra.Architecture(s.Platform)
	if err != nil {
		return dp, fmt.Errorf("stack %s: %w", s.Stack, err)
	}
	switch {
	case s.Platform == "":
		p.logf("%s: the image records no platform (built before Slipway recorded it): the task runs on %s, Fargate's default; rebuild to record it", s.Stack, arch)
	case arch == infra.ArchARM64 && s.Role == deploy.RolePreview:
		p.logf("%s: %s image: the preview runs on regular Fargate (Fargate Spot runs X86_64 tasks only)", s.Stack, s.Platform)
	}
	if dp.Secrets, err = p.secretARNs(ctx, s, shared); err != nil {
		return dp, err
	}
	return dp, nil
}

// secretARNs resolves the app's secret references to ARNs: an ARN as it
// is, "ssm:<name>" or "/<path>" to the SSM parameter's ARN in the shared
// stack's account and region, any other name to the Secrets Manager
// secret's ARN (DescribeSecret: the value is never read). It warns about
// a secret the stack's execution role may not read: ECS would stop the
// task at start with ResourceInitializationError.
func (p *Provider) secretARNs(ctx context.Context, s deploy.Spec, shared infra.SharedOutputs) (map[string]string, error) {
	if len(s.Secrets) == 0 {
		return nil, nil
	}
	where, err := arn.Parse(shared.ClusterARN)
	if err != nil {
		return nil, fmt.Errorf("shared stack output ClusterArn %q: %w", shared.ClusterARN, err)
	}
	out := make(map[string]string, len(s.Secrets))
	for name, ref := range s.Secrets {
		a, err := p.secretARN(ctx, where, ref)
		if err != nil {
			return nil, fmt.Errorf("stack %s: secret %s: %w", s.Stack, name, err)
		}
		out[name] = a
		if !p.executionRoleReads(s.Role, a) {
			p.logf("%s: warning: secret %s (%s): the %s task execution role reads only %s: grant it %s on this ARN, or ECS stops the task at start",
				s.Stack, name, a, s.Role, p.readableSecrets(s.Role), readAction(a))
		}
	}
	return out, nil
}

func (p *Provider) secretARN(ctx context.Context, where arn.ARN, ref string) (string, error) {
	switch {
	case strings.HasPrefix(ref, "arn:"):
		return ref, nil
	case strings.HasPrefix(ref, "ssm:") || strings.HasPrefix(ref, "/"):
		name := strings.TrimPrefix(strings.TrimPrefix(ref, "ssm:"), "/")
		return arn.ARN{Partition: where.Partition, Service: "ssm", Region: where.Region, AccountID: where.AccountID, Resource: "parameter/" + name}.String(), nil
	}
	if p.db.Secrets == nil {
		return "", fmt.Errorf("%q: no Secrets Manager client to resolve the name: give the secret's ARN", ref)
	}
	out, err := p.db.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(ref)})
	var nf *smtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return "", fmt.Errorf("Secrets Manager has no secret %q (an SSM parameter is written ssm:%s or /%s)", ref, ref, ref)
	}
	if err != nil {
		return "", fmt.Errorf("describe secret %q: %w", ref, err)
	}
	return aws.ToString(out.ARN), nil
}

// executionRoleReads reports whether the shared stack's execution role for
// role may read the secret: production's reads <app>/* secrets, the
// previews' <app>/pr-* (infra/shared.yaml); neither reads SSM parameters.
func (p *Provider) executionRoleReads(role, secretARN string) bool {
	a, err := arn.Parse(secretARN)
	if err != nil || a.Service != "secretsmanager" {
		return false
	}
	return strings.HasPrefix(strings.TrimPrefix(a.Resource, "secret:"), strings.TrimSuffix(p.readableSecrets(role), "*"))
}

func (p *Provider) readableSecrets(role string) string {
	if role == deploy.RolePreview {
		return p.o.App + "/pr-*"
	}
	return p.o.App + "/*"
}

func readAction(secretARN string) string {
	if strings.Contains(secretARN, ":ssm:") {
		return "ssm:GetParameters (and kms:Decrypt for a SecureString under a customer key)"
	}
	return "secretsmanager:GetSecretValue"
}
