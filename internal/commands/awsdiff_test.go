package commands_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/slipway/slipway/internal/testenv"
	"github.com/slipway/slipway/internal/testenv/registrytest"
)

// -diff prints what a deploy would change and changes nothing, as
// `copilot deploy --diff` and `terraform plan` do: shared:deploy -diff
// before the shared stack exists, preview:deploy -diff before the preview
// exists (the image is built and pushed: the plan needs its digest), and
// release -diff (a new stack, planned whole), and shared:deploy -diff of a
// changed setting. Real AWS: a change set of type
// CREATE makes the stack in REVIEW_IN_PROGRESS, and deleting that stack
// (or the change set) leaves nothing running (CloudFormation User Guide,
// "Update CloudFormation stacks using change sets"); cfnstack.Plan
// deletes both.
func TestDiffPrintsThePlanAndChangesNothing(t *testing.T) {
	testenv.Docker(t)
	a := newAWSAccount(t)
	app := randomApp(t, "df")
	env := a.env(t, app)
	cf := cloudformation.NewFromConfig(a.config())
	absent := func(stack string) {
		t.Helper()
		out, err := cf.DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
		if err == nil && len(out.Stacks) > 0 && out.Stacks[0].StackStatus != "DELETE_COMPLETE" {
			t.Errorf("%s exists after -diff: %s", stack, out.Stacks[0].StackStatus)
		}
	}

	out, stderr, err := mage(t, env, "shared:deploy", "-diff")
	if err != nil || !strings.Contains(out, app+"-shared: does not exist; a deploy creates it with") || !strings.Contains(out, "Nothing was changed (-diff).") {
		t.Fatalf("shared:deploy -diff before the shared stack: %v, want its plan on stdout:\n%s\n%s", err, out, stderr)
	}
	absent(app + "-shared")
	// moto 5.2.5 makes a CREATE change set's resources when it creates the
	// change set and leaves them when the stack is deleted
	// (research/moto.md); AWS makes none until ExecuteChangeSet. The
	// repositories it left would stop the shared stack's create.
	repos := ecr.NewFromConfig(a.config())
	for _, r := range []string{app, app + "-previews"} {
		_, _ = repos.DeleteRepository(context.Background(), &ecr.DeleteRepositoryInput{RepositoryName: aws.String(r), Force: true})
	}

	if _, stderr, err := mage(t, env, "shared:deploy"); err != nil {
		t.Fatalf("shared:deploy: %v\n%s", err, stderr)
	}
	reg := registrytest.StartWithLogin(t, "AWS", "123456789012-auth-token")
	pushEnv := append(append([]string(nil), env...), "SLIPWAY_REGISTRY_MIRROR="+reg.Host, "SLIPWAY_APP_IMAGE=slipway-test/awsdiff")
	out, stderr, err = mage(t, pushEnv, "preview:deploy", "-pr=5", "-diff")
	// (The account's stand-in answers a CREATE change set as a stack, so the
	// plan lists no resources here; cfnstack's tests check the listing.)
	if err != nil || !strings.Contains(out, app+"-pr-5: does not exist; a deploy creates it with") || !strings.Contains(out, "Nothing was changed (-diff).") {
		t.Fatalf("preview:deploy -diff: %v, want the preview stack's plan on stdout:\n%s\n%s", err, out, stderr)
	}
	absent(app + "-pr-5")

	out, stderr, err = mage(t, pushEnv, "release", "-allowDirty", "-allowBranch", "-diff")
	if err != nil || !strings.Contains(out, app+"-prod-") || !strings.Contains(out, "does not exist; a deploy creates it with") {
		t.Fatalf("release -diff: %v, want the new release stack's plan on stdout:\n%s\n%s", err, out, stderr)
	}
	if stack, _, _ := strings.Cut(out, ":"); strings.HasPrefix(stack, app+"-prod-") {
		absent(stack)
	} else {
		t.Errorf("release -diff does not start with the stack's name:\n%s", out)
	}

	out, stderr, err = mage(t, append(append([]string(nil), env...), "SLIPWAY_AWS_PREVIEW_PORTS=9001-9005"), "shared:deploy", "-diff")
	if err != nil || !strings.Contains(out, "PreviewPortLast: 9010 -> 9005") {
		t.Fatalf("shared:deploy -diff of a changed port range: %v, want the parameter's change:\n%s\n%s", err, out, stderr)
	}
	st, err := cf.DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String(app + "-shared")})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range st.Stacks[0].Parameters {
		if aws.ToString(p.ParameterKey) == "PreviewPortLast" && aws.ToString(p.ParameterValue) != "9010" {
			t.Errorf("PreviewPortLast is %s after -diff, want 9010 unchanged", aws.ToString(p.ParameterValue))
		}
	}
}
