package commands_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/slipway/slipway/infra"
	"github.com/slipway/slipway/internal/awsprov"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/naming"
	"github.com/slipway/slipway/internal/testenv"
	"github.com/slipway/slipway/internal/testenv/registrytest"
)

// The aws target from the command line, from the shared stack to the
// teardown and back: termination protection that a first run could not
// turn on is turned on by the next; push goes to the shared stack's ECR
// repository; the README's manual canary and rollback; destroying a
// preview that is gone says so; the app is torn down only once its name
// is typed, saying what it keeps; and the repository it keeps does not
// send the next shared:deploy round in circles.
func TestAWSFromSharedDeployToTeardownAsAUserRunsIt(t *testing.T) {
	testenv.Docker(t) // every session connects to the engine; push builds on it
	a := newAWSAccount(t)
	app := randomApp(t, "aw")
	env := a.env(t, app)
	ctx := context.Background()

	t.Run("a shared:deploy whose protection was denied is protected by the next run", func(t *testing.T) { sharedDeployConverges(t, a, env, app) })
	t.Run("push goes to the shared stack's ECR repository", func(t *testing.T) { pushToECR(t, env, app) })

	p := a.provider(app)
	v1, v2 := release(t, p, app, 1), release(t, p, app, 2)
	t.Run("the README's canary: traffic:set previous=90 live=10, then rollback", func(t *testing.T) { canaryThenRollback(t, env, v1, v2) })

	preview := deploy.Spec{Stack: app + "-pr-3", Role: deploy.RolePreview, PR: 3, Host: "pr-3." + app, Commit: strings.Repeat("3", 40),
		Digest: "sha256:" + strings.Repeat("3", 64), Image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + app + "@sha256:" + strings.Repeat("3", 64)}
	if _, err := p.Deploy(ctx, preview); err != nil {
		t.Fatalf("deploy a preview: %v", err)
	}
	sm := secretsmanager.NewFromConfig(a.config())
	for name, tagged := range map[string]bool{app + "/pr-3/database-url": true, app + "/team-notes": false} {
		in := &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("postgres://x")}
		if tagged {
			in.Tags = []smtypes.Tag{{Key: aws.String(awsprov.TagApp), Value: aws.String(app)}}
		}
		if _, err := sm.CreateSecret(ctx, in); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("status shows each stack's estimated monthly cost", func(t *testing.T) { statusCosts(t, env, preview.Stack, v1, v2) })
	t.Run("destroying a preview that is gone says so", func(t *testing.T) {
		_, stderr, err := mage(t, env, "preview:destroy", "-pr=9")
		if err != nil || !strings.Contains(stderr, app+"-pr-9: no such stack: already gone, nothing to delete") {
			t.Errorf("preview:destroy of a preview that does not exist: %v, want success saying it is already gone:\n%s", err, stderr)
		}
	})
	t.Run("the app is torn down once its name is typed, and what stays is said", func(t *testing.T) { teardown(t, a, p, env, app, v1, v2, preview.Stack) })
	t.Run("the kept repository does not make shared:deploy advise itself", func(t *testing.T) { keptRepository(t, a, env, app) })
}

func sharedDeployConverges(t *testing.T, a *awsAccount, env []string, app string) {
	// AWS: termination protection is off by default, and set with
	// UpdateTerminationProtection (change sets cannot carry it); a role
	// without cloudformation:UpdateTerminationProtection gets AccessDenied
	// and the stack stays unprotected, and DeleteStack of a protected
	// stack fails (CloudFormation User Guide, "Protect CloudFormation
	// stacks from being deleted",
	// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-protect-stacks.html).
	a.on("cloudformation:UpdateTerminationProtection", func(w http.ResponseWriter, _ url.Values) bool {
		queryError(w, http.StatusForbidden, "AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/ci/run is not authorized to perform: cloudformation:UpdateTerminationProtection")
		return true
	})
	_, stderr, err := mage(t, env, "shared:deploy")
	a.on("cloudformation:UpdateTerminationProtection", nil)
	if err == nil || !strings.Contains(stderr, "termination protection is still off") || !strings.Contains(stderr, "AccessDenied") ||
		!strings.Contains(stderr, "next: run `go run mage.go shared:deploy`") {
		t.Fatalf("shared:deploy with UpdateTerminationProtection denied: %v, want a failure saying protection is still off, why, and to run it again:\n%s", err, stderr)
	}
	out, stderr, err := mage(t, env, "shared:deploy")
	if err != nil || !strings.Contains(stderr, app+"-shared: termination protection was off: turned on") || !strings.Contains(out, "ALB ports") {
		t.Fatalf("shared:deploy run again: %v, want it to turn the protection on and print the ALB:\n%s\n%s", err, out, stderr)
	}
	st, err := cloudformation.NewFromConfig(a.config()).DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String(app + "-shared")})
	if err != nil || !aws.ToBool(st.Stacks[0].EnableTerminationProtection) {
		t.Fatalf("the shared stack after the rerun: %v, protection %v; want it on", err, st)
	}
}

func pushToECR(t *testing.T, env []string, app string) {
	// moto's ECR hands out the login AWS:123456789012-auth-token but has
	// no registry API: the push goes to a registry with that login (the
	// mirror), and the printed reference names the ECR repository: a
	// hand-made push is no release, so it goes where previews go (the
	// release repository takes releases only; its images are kept).
	reg := registrytest.StartWithLogin(t, "AWS", "123456789012-auth-token")
	out, stderr, err := mage(t, append(append([]string(nil), env...), "SLIPWAY_REGISTRY_MIRROR="+reg.Host, "SLIPWAY_APP_IMAGE=slipway-test/awsflow"), "push")
	want := "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + app + "-previews@sha256:"
	if err != nil || !strings.HasPrefix(strings.TrimSpace(out), want) {
		t.Fatalf("push on aws without SLIPWAY_REGISTRY: %v, printed %q, want %s…\n%s", err, out, want, stderr)
	}
}

// release deploys release n of app and gives it all production traffic,
// as release does once its tests pass (the targets cannot run the app's
// tests here: moto's ALB serves nothing).
func release(t *testing.T, p *awsprov.Provider, app string, n int) string {
	t.Helper()
	commit := strings.Repeat(fmt.Sprint(n), 40)
	name, err := naming.Release(app, time.Date(2026, 12, 1, n, 0, 0, 0, time.UTC), commit)
	if err != nil {
		t.Fatal(err)
	}
	digest := "sha256:" + strings.Repeat(fmt.Sprint(n), 64)
	spec := deploy.Spec{Stack: name, Role: deploy.RoleProduction, Commit: commit, Digest: digest,
		Image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + app + "@" + digest}
	ctx := context.Background()
	if _, err := p.Deploy(ctx, spec); err != nil {
		t.Fatalf("deploy release %d: %v", n, err)
	}
	if err := p.SetProduction(ctx, []deploy.Weight{{Stack: name, Weight: 100}}); err != nil {
		t.Fatalf("release %d takes production: %v", n, err)
	}
	time.Sleep(1100 * time.Millisecond) // creation tags have a resolution of one second: releases are ordered by them
	return name
}

func canaryThenRollback(t *testing.T, env []string, previous, live string) {
	if out, stderr, err := mage(t, env, "traffic:set", previous+"=90 "+live+"=10"); err != nil || !strings.Contains(out, previous) {
		t.Fatalf("traffic:set: %v\n%s\n%s", err, out, stderr)
	}
	out, stderr, err := mage(t, env, "rollback")
	if err != nil || strings.TrimSpace(out) != previous {
		t.Fatalf("rollback after the split %s=90 %s=10: %v, printed %q; want all traffic back on %s\n%s", previous, live, err, out, previous, stderr)
	}
	out, stderr, err = mage(t, env, "traffic:show")
	if err != nil || !strings.Contains(out, previous) || strings.Contains(out, live) {
		t.Errorf("traffic after the rollback: %v\n%s\n%s, want %s alone", err, out, stderr, previous)
	}
}

func teardown(t *testing.T, a *awsAccount, p *awsprov.Provider, env []string, app string, stacks ...string) {
	_, stderr, err := mage(t, env, "shared:destroy")
	if err == nil || !strings.Contains(stderr, "go run mage.go destroy -app="+app) || !strings.Contains(stderr, stacks[0]) {
		t.Fatalf("shared:destroy with stacks left: %v, want a refusal naming them and the teardown to run:\n%s", err, stderr)
	}
	for args, want := range map[string]string{"": "to go ahead, name the app: `go run mage.go destroy -app=" + app + "`",
		"-app=someone-else": "the app configured here is " + app + " (SLIPWAY_APP, else slipway.yaml's app), not someone-else"} {
		_, stderr, err := mage(t, env, strings.Fields("destroy "+args)...)
		if err == nil || !strings.Contains(stderr, "nothing was changed") || !strings.Contains(stderr, want) {
			t.Errorf("destroy %s: %v, want a refusal saying nothing changed and %q:\n%s", args, err, want, stderr)
		}
	}
	if status, stderr, err := mage(t, env, "status"); err != nil || !strings.Contains(status, stacks[0]) {
		t.Fatalf("a refused destroy changed something: %v\n%s\n%s", err, status, stderr)
	}
	// While a release (here: alice's) holds the app's lease, the teardown
	// waits for nothing and changes nothing.
	held, err := p.TryLock(context.Background(), "alice@laptop (pid 42)", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	deletes := a.count("cloudformation:DeleteStack") + a.count("elasticloadbalancing:DeleteRule")
	_, stderr, err = mage(t, env, "destroy", "-app="+app)
	if err == nil || !strings.Contains(stderr, "locked by alice@laptop (pid 42)") {
		t.Errorf("destroy while alice holds the lease: %v, want a refusal naming her:\n%s", err, stderr)
	}
	if n := a.count("cloudformation:DeleteStack") + a.count("elasticloadbalancing:DeleteRule") - deletes; n != 0 {
		t.Errorf("the refused teardown deleted %d stacks or rules", n)
	}
	if err := held.Unlock(context.Background()); err != nil {
		t.Fatal(err)
	}
	deletes = a.count("cloudformation:DeleteStack")
	out, stderr, err := mage(t, env, "destroy", "-app="+app)
	if err != nil {
		t.Fatalf("destroy -app=%s: %v\n%s\n%s", app, err, out, stderr)
	}
	want := []string{"deleted  production rule", "deleted  secret " + app + "/pr-3/database-url", "deleted  shared stack " + app + "-shared",
		"kept     ECR repository " + app + " (", "aws ecr delete-repository --repository-name " + app + " --force"}
	for _, s := range stacks {
		want = append(want, "deleted  stack "+s)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("destroy printed no %q:\n%s\n%s", w, out, stderr)
		}
	}
	if strings.Contains(out, "team-notes") {
		t.Errorf("destroy deleted a secret the app's stacks did not make:\n%s", out)
	}
	if n := a.count("cloudformation:DeleteStack") - deletes; n != len(stacks)+1 {
		t.Errorf("%d DeleteStack calls, want one per stack and one for the shared stack (the protection off first)", n)
	}
	if status, stderr, err := mage(t, env, "status"); err != nil || strings.TrimSpace(status) != "no stacks" {
		t.Errorf("status after the teardown: %v\n%s\n%s", err, status, stderr)
	}
}

func keptRepository(t *testing.T, a *awsAccount, env []string, app string) {
	// AWS: the shared stack's repository has DeletionPolicy Retain, so it
	// outlives the stack ("DeletionPolicy attribute",
	// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html),
	// and a create that meets it fails with the handler error code
	// AlreadyExists ("Resource type handler error codes",
	// https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-test-contract-errors.html).
	// moto keeps it too, and CreateStack answers RepositoryAlreadyExistsException.
	registry := ecr.NewFromConfig(a.config())
	ctx := context.Background()
	if _, err := registry.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{app}}); err != nil {
		t.Fatalf("the ECR repository should outlive the shared stack (DeletionPolicy Retain): %v", err)
	}
	creates := a.count("cloudformation:CreateChangeSet")
	_, stderr, err := mage(t, env, "shared:deploy")
	if err == nil || !strings.Contains(stderr, "aws ecr delete-repository --repository-name "+app+" --force") ||
		strings.Contains(stderr, "next: run `go run mage.go shared:deploy`") {
		t.Fatalf("shared:deploy with the repository left: %v, want the command that removes it, not the advice to run shared:deploy again:\n%s", err, stderr)
	}
	if n := a.count("cloudformation:CreateChangeSet") - creates; n != 0 {
		t.Errorf("%d change sets created while the repository blocks the create, want none", n)
	}
	// The advice, followed, works.
	if _, err := registry.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String(app), Force: true}); err != nil {
		t.Fatal(err)
	}
	if out, stderr, err := mage(t, env, "shared:deploy"); err != nil {
		t.Fatalf("shared:deploy once the repository is gone: %v\n%s\n%s", err, out, stderr)
	}
	// shared:destroy says what it keeps, too.
	out, stderr, err := mage(t, env, "shared:destroy")
	if err != nil || !strings.Contains(strings.Join(strings.Fields(out), " "), "kept ECR repository "+app+" (0 images)") || !strings.Contains(out, "aws ecr delete-repository --repository-name "+app+" --force") {
		t.Errorf("shared:destroy: %v, want it to say the repository stays and how to remove it:\n%s\n%s", err, out, stderr)
	}
}

// The preview runs on Fargate Spot, the releases on demand, each 0.25 vCPU
// and 512 MiB with one task: status prices each from its parameters
// (infra.StackMonthlyCost, us-east-1 list prices).
func statusCosts(t *testing.T, env []string, preview string, releases ...string) {
	out, stderr, err := mage(t, env, "status")
	if err != nil || !strings.Contains(out, "EST. COST") {
		t.Fatalf("status: %v, want a cost column:\n%s\n%s", err, out, stderr)
	}
	want := map[string]string{preview: fmt.Sprintf("$%.2f/mo", infra.MonthlyCost(256, 512, 1, true))}
	for _, r := range releases {
		want[r] = fmt.Sprintf("$%.2f/mo", infra.MonthlyCost(256, 512, 1, false))
	}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && want[f[0]] != "" {
			if f[len(f)-1] != want[f[0]] {
				t.Errorf("status row of %s ends %q, want its cost %s:\n%s", f[0], f[len(f)-1], want[f[0]], l)
			}
			delete(want, f[0])
		}
	}
	if len(want) > 0 {
		t.Errorf("status has no rows for %v:\n%s", want, out)
	}
}
