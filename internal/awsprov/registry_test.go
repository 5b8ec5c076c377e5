package awsprov

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/slipway/slipway/internal/deploy"
)

// fakeRegistry is a repository holding n images.
type fakeRegistry struct{ n int }

func (f fakeRegistry) DescribeImages(context.Context, *ecr.DescribeImagesInput, ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error) {
	return &ecr.DescribeImagesOutput{ImageDetails: make([]ecrtypes.ImageDetail, f.n)}, nil
}

// AWS: when a create's resource handler finds the resource it would create
// already there, it fails with the handler error code AlreadyExists
// ("Resource type handler error codes",
// https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-test-contract-errors.html),
// the stack rolls back, and the event's reason reads "Resource of type
// 'AWS::ECR::Repository' with identifier '…' already exists." The error
// then says how to remove the repository, never to run shared:deploy
// alone, which would fail the same way.
func TestASharedStackCreateThatFailedOnItsRepositorySaysHowToGoOn(t *testing.T) {
	p := New(Clients{ECR: fakeRegistry{n: 2}}, Options{App: "shop"})
	reason := `Resource handler returned message: "Resource of type 'AWS::ECR::Repository' with identifier 'shop' already exists." (RequestToken: 1f2e, HandlerErrorCode: AlreadyExists)`
	failed := &deploy.Failure{Stack: "shop-shared", Resource: "Repository", Reason: reason, Next: "go run mage.go shared:deploy",
		Err: errors.New("update stack shop-shared (ROLLBACK_COMPLETE): stack operation failed: first failed resource Repository (AWS::ECR::Repository): " + reason + "; next: run `go run mage.go shared:deploy`")}
	err := p.repositoryFailure(context.Background(), "shop-shared", failed)
	var fl *deploy.Failure
	if !errors.Is(err, ErrRepositoryExists) || !errors.As(err, &fl) || fl.Next != "aws ecr delete-repository --repository-name shop --force" {
		t.Fatalf("create failed on the repository: %v, want ErrRepositoryExists with the command that removes it next", err)
	}
	for _, want := range []string{"repository shop (2 images)", "HandlerErrorCode: AlreadyExists", "`aws ecr delete-repository --repository-name shop --force`, then run `go run mage.go shared:deploy`"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "next: run `go run mage.go shared:deploy`") {
		t.Errorf("the error advises the command that just failed:\n%v", err)
	}
	other := &deploy.Failure{Stack: "shop-shared", Resource: "LoadBalancer", Reason: "Internal failure", Err: errors.New("x")}
	if got := p.repositoryFailure(context.Background(), "shop-shared", other); got != other {
		t.Errorf("another failure was rewritten: %v", got)
	}
}
