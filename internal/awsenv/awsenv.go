// Package awsenv loads the AWS SDK configuration every Slipway command uses
// on the aws target: the SDK's default credential chain (environment,
// shared profile, SSO, OIDC web identity in GitHub Actions, container and
// instance roles), the region, and an endpoint override for tests against a
// moto server; and the retryer every client built from it uses.
package awsenv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Settings are the parts of Slipway's configuration the SDK needs.
type Settings struct {
	Region   string // AWS_REGION; empty: the SDK's own lookup (profile)
	Endpoint string // SLIPWAY_AWS_ENDPOINT; empty: the real AWS endpoints

	// MaxAttempts per API call, the first included (default 10: the SDK's
	// 3 give up during a burst of CloudFormation throttling). The SDK's
	// AWS_MAX_ATTEMPTS still overrides it.
	MaxAttempts int
	// MaxBackoff caps the wait between two attempts (default 20 s); the
	// wait grows exponentially with full jitter up to it. Tests lower it.
	MaxBackoff time.Duration
}

// Defaults for the retryer.
const (
	DefaultMaxAttempts = 10
	DefaultMaxBackoff  = 20 * time.Second
)

// Retryer returns the retryer Load puts in the configuration: the SDK's
// standard mode (retries throttling, 5xx and connection errors; exponential
// backoff with full jitter; a retry quota shared by the client) with more
// attempts. Standard rather than adaptive: adaptive mode also slows every
// later call of the client after a throttle, which would stretch the
// status polls that wait for a stack.
func Retryer(s Settings) func() aws.Retryer {
	attempts, backoff := s.MaxAttempts, s.MaxBackoff
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	if backoff <= 0 {
		backoff = DefaultMaxBackoff
	}
	return func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.MaxBackoff = backoff
		})
	}
}

// Load resolves the SDK configuration and fails early, with what to set,
// when no region can be found.
func Load(ctx context.Context, s Settings) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if s.Region != "" {
		opts = append(opts, awsconfig.WithRegion(s.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("load AWS configuration: no region: set AWS_REGION (or a region in your AWS profile)")
	}
	if s.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(s.Endpoint)
	}
	cfg.Retryer = Retryer(s)
	return cfg, nil
}

// Identity says who the credentials are, so a user sees which account a
// command is about to change. It makes one STS call.
func Identity(ctx context.Context, cfg aws.Config) (account, arn string, err error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", "", fmt.Errorf("get caller identity (check AWS credentials: profile, SSO login, or OIDC role): %w", err)
	}
	return aws.ToString(out.Account), aws.ToString(out.Arn), nil
}
