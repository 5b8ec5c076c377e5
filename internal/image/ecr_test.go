package image_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	dockerimage "github.com/docker/docker/api/types/image"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/image"
	"github.com/slipway/slipway/internal/testenv"
	"github.com/slipway/slipway/internal/testenv/registrytest"
)

// The ECR API (moto) gives the login; the image goes through the Docker
// engine to the registry mirror with it (moto has no registry API), and
// the deploy reference names the ECR repository at the pushed digest.
func TestPushToECRWithItsTokenThroughAMirror(t *testing.T) {
	cli := testenv.Docker(t)
	api := ecr.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(testenv.Moto(t)),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
	ctx := context.Background()
	repo, err := api.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("slipway-test/ecr")})
	if err != nil {
		t.Fatal(err)
	}
	// moto's token decodes to AWS:123456789012-auth-token; the mirror
	// accepts exactly that login, as ECR accepts its own token.
	reg := registrytest.StartWithLogin(t, "AWS", "123456789012-auth-token")
	login, err := image.LoginECR(ctx, api, reg.Host)
	if err != nil {
		t.Fatal(err)
	}
	if login.Host != reg.Host || login.Auth.Username != "AWS" {
		t.Fatalf("login %+v, want user AWS for the mirror %s", login, reg.Host)
	}
	b := &build.Builder{Engine: cli, ModuleDir: testenv.ModuleDir(t), AppImage: "slipway-test/ecr", Registry: login.Host,
		Auth: login.Auth, Rev: &build.Revision{Commit: "ec20000000000000000000000000000000000def", Version: "ecr-test"}, Rebuild: true}
	img, err := b.Build(ctx, "pr-9")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, ref := range []string{"slipway-test/ecr:ec20000", "slipway-test/ecr:pr-9", reg.Host + "/slipway-test/ecr:ec20000", reg.Host + "/slipway-test/ecr:pr-9"} {
			_, _ = cli.ImageRemove(ctx, ref, dockerimage.RemoveOptions{})
		}
	})
	if got, sum, _ := reg.Manifest(t, http.MethodGet, "slipway-test/ecr", "pr-9"); got != img.Digest || sum != img.Digest {
		t.Fatalf("mirror has %s (body %s), push said %s", got, sum, img.Digest)
	}
	ref, err := image.ByDigest(aws.ToString(repo.Repository.RepositoryUri), img.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ref, "123456789012.dkr.ecr.us-east-1.amazonaws.com/slipway-test/ecr@sha256:") {
		t.Errorf("deploy reference %s, want the ECR repository at the digest", ref)
	}
	// Without a mirror, the push goes to the registry ECR names.
	direct, err := image.LoginECR(ctx, api, "")
	if err != nil || direct.Host != "123456789012.dkr.ecr.us-east-1.amazonaws.com" {
		t.Errorf("login without a mirror: %+v, %v; want ECR's endpoint host", direct, err)
	}
}

type tokens struct {
	out *ecr.GetAuthorizationTokenOutput
}

func (f tokens) GetAuthorizationToken(context.Context, *ecr.GetAuthorizationTokenInput, ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error) {
	return f.out, nil
}

func TestECRLoginRefusesAMalformedToken(t *testing.T) {
	for name, tok := range map[string]string{
		"not base64":  "%%%",
		"no colon":    base64.StdEncoding.EncodeToString([]byte("AWS")),
		"no password": base64.StdEncoding.EncodeToString([]byte("AWS:")),
	} {
		t.Run(name, func(t *testing.T) {
			out := &ecr.GetAuthorizationTokenOutput{AuthorizationData: []ecrtypes.AuthorizationData{{AuthorizationToken: aws.String(tok), ProxyEndpoint: aws.String("https://1.dkr.ecr.us-east-1.amazonaws.com")}}}
			if _, err := image.LoginECR(context.Background(), tokens{out}, ""); err == nil || !strings.Contains(err.Error(), "ECR authorization token") {
				t.Errorf("LoginECR(%q) = %v, want an error about the token", tok, err)
			}
		})
	}
}
