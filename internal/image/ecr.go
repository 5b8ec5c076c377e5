package image

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// ECRTokens is the part of the ECR API a push needs.
type ECRTokens interface {
	GetAuthorizationToken(ctx context.Context, in *ecr.GetAuthorizationTokenInput, opts ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error)
}

var _ ECRTokens = (*ecr.Client)(nil)

// ECRLogin is what pushing to ECR needs: the credentials an authorization
// token decodes to, and the registry host to push to.
type ECRLogin struct {
	Auth Auth
	Host string // <account>.dkr.ecr.<region>.amazonaws.com, or the mirror
}

// LoginECR gets an authorization token from ECR (valid 12 hours) and
// decodes it into registry credentials. mirror, when set
// (SLIPWAY_REGISTRY_MIRROR, host[:port]), is where the image is pushed
// instead of the ECR endpoint, with the same credentials: a registry that
// fronts ECR, or in the tests an in-process registry while the ECR API is
// moto. The deploy reference still names the ECR repository (ByDigest with the
// repository URI).
func LoginECR(ctx context.Context, api ECRTokens, mirror string) (ECRLogin, error) {
	out, err := api.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return ECRLogin{}, fmt.Errorf("get ECR authorization token (the role needs ecr:GetAuthorizationToken): %w", err)
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil {
		return ECRLogin{}, fmt.Errorf("get ECR authorization token: ECR returned no token")
	}
	d := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(*d.AuthorizationToken)
	if err != nil {
		return ECRLogin{}, fmt.Errorf("decode ECR authorization token: %w", err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" || pass == "" {
		return ECRLogin{}, fmt.Errorf("decode ECR authorization token: not user:password")
	}
	host := mirror
	if host == "" {
		if d.ProxyEndpoint == nil {
			return ECRLogin{}, fmt.Errorf("get ECR authorization token: no registry endpoint in the answer")
		}
		u, err := url.Parse(*d.ProxyEndpoint)
		if err != nil || u.Host == "" {
			return ECRLogin{}, fmt.Errorf("parse ECR registry endpoint %q: not a URL", *d.ProxyEndpoint)
		}
		host = u.Host
	}
	return ECRLogin{Auth: Auth{Username: user, Password: pass, ServerAddress: host}, Host: host}, nil
}
