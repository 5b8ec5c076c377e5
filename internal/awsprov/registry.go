package awsprov

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/slipway/slipway/internal/cfnstack"
	"github.com/slipway/slipway/internal/deploy"
)

// Registry is the part of the ECR API the shared stack's lifecycle calls:
// DescribeImages, which the release and preview roles may call on the
// app's repository (infra/iam), tells whether it exists and what it holds.
type Registry interface {
	DescribeImages(ctx context.Context, in *ecr.DescribeImagesInput, opts ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error)
}

var _ Registry = (*ecr.Client)(nil)

// repositoryName is the shared stack's ECR repository: infra/shared.yaml
// names it after the app.
func (p *Provider) repositoryName() string { return p.o.App }

// images counts a repository's images (up to one page of 1000); found is
// false when there is no such repository.
func (p *Provider) images(ctx context.Context, repo string) (n int, more, found bool, err error) {
	if p.ecr == nil {
		return 0, false, false, errors.New("the aws target was built without an ECR client")
	}
	out, err := p.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(1000)})
	var nf *ecrtypes.RepositoryNotFoundException
	if errors.As(err, &nf) {
		return 0, false, false, nil
	}
	if err != nil {
		return 0, false, false, fmt.Errorf("describe the images of ECR repository %s: %w", repo, err)
	}
	return len(out.ImageDetails), out.NextToken != nil, true, nil
}

// imageCount says how many images a repository holds, in words.
func (p *Provider) imageCount(ctx context.Context, repo string) string {
	n, more, _, err := p.images(ctx, repo)
	return imagesHeld(n, more, err)
}

// imagesHeld is what images found, in words.
func imagesHeld(n int, more bool, err error) string {
	switch {
	case err != nil:
		return "images not counted: " + err.Error()
	case more:
		return fmt.Sprintf("%d or more images", n)
	case n == 1:
		return "1 image"
	}
	return fmt.Sprintf("%d images", n)
}

// checkRepository refuses to create the shared stack while the ECR
// repository it would create exists, left by an earlier shared stack (the
// repository is kept when the stack is deleted): CloudFormation would fail
// on it after creating the network, and rerunning would fail again. When
// the repository cannot be read, the create goes ahead (repositoryFailure
// still explains a failure).
func (p *Provider) checkRepository(ctx context.Context, shared string) error {
	if p.ecr == nil {
		return nil
	}
	st, err := p.eng.Describe(ctx, shared)
	if err != nil {
		return failure(err)
	}
	if st.State != cfnstack.StateAbsent && st.State != cfnstack.StateReview && st.State != cfnstack.StateFailed {
		return nil // the stack has its repository
	}
	repo := p.repositoryName()
	n, more, found, err := p.images(ctx, repo)
	if err != nil {
		p.logf("%s: warning: could not check for an ECR repository %s left by an earlier shared stack: %v", shared, repo, err)
		return nil
	}
	if !found {
		return nil
	}
	return repositoryExists(shared, repo, imagesHeld(n, more, nil), "")
}

// repositoryFailure explains a shared stack create that failed on its
// repository because one of that name exists (the check before the create
// could not read it): the command to run next is the one that removes it,
// never shared:deploy alone, which would fail the same way.
func (p *Provider) repositoryFailure(ctx context.Context, shared string, err error) error {
	var fl *deploy.Failure
	if !errors.As(err, &fl) || fl.Resource != "Repository" || !strings.Contains(strings.ToLower(fl.Reason), "already exists") {
		return err
	}
	return &deploy.Failure{Stack: fl.Stack, Resource: fl.Resource, Reason: fl.Reason, Next: "aws ecr delete-repository --repository-name " + p.repositoryName() + " --force",
		Err: repositoryExists(shared, p.repositoryName(), p.imageCount(ctx, p.repositoryName()), fl.Reason)}
}

// ErrRepositoryExists is returned when the shared stack cannot be created
// because its ECR repository exists already.
var ErrRepositoryExists = errors.New("the ECR repository exists already")

// repositoryExists is the error of a shared stack create blocked by its
// repository; cause is CloudFormation's reason when the create failed.
func repositoryExists(shared, repo, held, cause string) error {
	if cause != "" {
		cause = " (CloudFormation: " + cause + ")"
	}
	return fmt.Errorf("create shared stack %s: %w: repository %s (%s) is left from an earlier shared stack (a repository outlives its stack, with the images releases ran), and CloudFormation cannot create one that exists%s; "+
		"delete it, with its images: `aws ecr delete-repository --repository-name %s --force`, then run `go run mage.go shared:deploy`", shared, ErrRepositoryExists, repo, held, cause, repo)
}
