package infra

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/cfnstack"
)

// A small IAM evaluator for the policy files: explicit deny wins, then any
// allow, else the implicit deny. It knows only the condition operators the
// files use and fails the test on any other, so it cannot pass by ignoring
// a condition.

type strs []string

func (s *strs) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("[")) {
		return json.Unmarshal(b, (*[]string)(s))
	}
	var one string
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*s = strs{one}
	return nil
}

type statement struct {
	Sid       string
	Effect    string
	Action    strs
	NotAction strs
	Resource  strs
	Principal map[string]strs
	Condition map[string]map[string]strs
}

type policy struct {
	Version   string
	Statement []statement
}

// request is one API call: its action, resource and request context.
type request struct {
	action, resource string
	ctx              map[string][]string
}

func glob(pattern, s string, fold bool) bool {
	re := "^" + strings.ReplaceAll(strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*"), `\?`, ".") + "$"
	if fold {
		re = "(?i)" + re
	}
	return regexp.MustCompile(re).MatchString(s)
}

func anyGlob(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if glob(p, s, fold) {
			return true
		}
	}
	return false
}

func (st statement) matches(t *testing.T, r request) bool {
	t.Helper()
	if len(st.Action) > 0 && !anyGlob(st.Action, r.action, true) {
		return false
	}
	if len(st.NotAction) > 0 && anyGlob(st.NotAction, r.action, true) {
		return false
	}
	// A trust policy (a Principal, no Resource) applies to the role itself.
	if !(st.Principal != nil && len(st.Resource) == 0) && !anyGlob(st.Resource, r.resource, false) {
		return false
	}
	for op, keys := range st.Condition {
		for key, want := range keys {
			if !condition(t, op, r.ctx[key], want) {
				return false
			}
		}
	}
	return true
}

func condition(t *testing.T, op string, got, want []string) bool {
	t.Helper()
	switch op {
	case "StringEquals", "StringLike":
		return len(got) == 1 && (op == "StringLike" && anyGlob(want, got[0], false) || op == "StringEquals" && contains(want, got[0]))
	case "ForAnyValue:StringEquals":
		for _, g := range got {
			if contains(want, g) {
				return true
			}
		}
		return false
	case "ForAllValues:StringEquals":
		for _, g := range got {
			if !contains(want, g) {
				return false
			}
		}
		return true
	case "Null":
		return (want[0] == "true") == (got == nil)
	}
	t.Fatalf("condition operator %s: the test evaluator does not know it; teach it before using it", op)
	return false
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func decide(t *testing.T, p policy, r request) string {
	t.Helper()
	allowed := ""
	for _, st := range p.Statement {
		if !st.matches(t, r) {
			continue
		}
		if st.Effect == "Deny" {
			return "denied by " + st.Sid
		}
		allowed = "allowed by " + st.Sid
	}
	if allowed == "" {
		return "not allowed"
	}
	return allowed
}

var vars = PolicyVars{App: "demo", Account: "123456789012", Region: "eu-west-1", Repo: "acme/shop"}

func loadPolicy(t *testing.T, name string) policy {
	t.Helper()
	return loadPolicyWith(t, name, vars)
}

func loadPolicyWith(t *testing.T, name string, v PolicyVars) policy {
	t.Helper()
	b, err := Policy(name, v)
	if err != nil {
		t.Fatal(err)
	}
	var p policy
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return p
}

const (
	arnPrefix   = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
	prodRule    = arnPrefix + "listener-rule/app/demo-shared/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
	listener    = arnPrefix + "listener/app/demo-shared/50dc6c495c0c9188/f2f7dc8efc522ab2"
	testRule    = arnPrefix + "listener-rule/app/demo-shared/50dc6c495c0c9188/f2f7dc8efc522ab2/1a2b3c4d5e6f7a8b" // a release's X-Slipway-Stack rule
	prodALB     = arnPrefix + "loadbalancer/app/demo-shared/50dc6c495c0c9188"
	pvALB       = arnPrefix + "loadbalancer/app/demo-previews/7a1b2c3d4e5f6a7b"
	pvListener  = arnPrefix + "listener/app/demo-previews/7a1b2c3d4e5f6a7b/0c1d2e3f4a5b6c7d"
	pvPort      = arnPrefix + "listener/app/demo-previews/7a1b2c3d4e5f6a7b/9e8d7c6b5a4f3e2d" // a port-mode preview's listener
	pvRule      = arnPrefix + "listener-rule/app/demo-previews/7a1b2c3d4e5f6a7b/0c1d2e3f4a5b6c7d/2b3c4d5e6f7a8b9c"
	prodTG      = arnPrefix + "targetgroup/demo-prod-20261202041500-e1c6b0/73e2d6bc24d8a067"
	previewTG   = arnPrefix + "targetgroup/demo-pr-42/73e2d6bc24d8a068"
	stackARN    = "arn:aws:cloudformation:eu-west-1:123456789012:stack/%s/1f2e3d4c-0000-1111-2222-333344445555"
	prodService = "arn:aws:ecs:eu-west-1:123456789012:service/demo/demo-prod-20261202041500-0123abc-Service-AbC123"
	prService   = "arn:aws:ecs:eu-west-1:123456789012:service/demo/demo-pr-42-Service-AbC123"
	secretARN   = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:"
	prSecretARN = secretARN + "demo/pr-42/database-url-AbCdEf"
	prodSecret  = secretARN + "demo/prod/database-url-XyZ123"
	master      = secretARN + "rds!cluster-0a1b2c3d-4e5f-6789-abcd-ef0123456789-AbCdEf"
	appCluster  = "arn:aws:rds:eu-west-1:123456789012:cluster:demo-db"
	taskDefARN  = "arn:aws:ecs:eu-west-1:123456789012:task-definition/%s:3"
	execRole    = "arn:aws:iam::123456789012:role/demo-shared-TaskExecutionRole-1A2B3C4D5E6F"
	prExecRole  = "arn:aws:iam::123456789012:role/demo-shared-PreviewExecRole-1A2B3C4D5E6F"
	lockTable   = "arn:aws:dynamodb:eu-west-1:123456789012:table/demo-slipway-lock"
	taskSG      = "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0123456789abcdef0"
	releaseRepo = "arn:aws:ecr:eu-west-1:123456789012:repository/demo"
	previewRepo = "arn:aws:ecr:eu-west-1:123456789012:repository/demo-previews"
)

var (
	viaCFN       = map[string][]string{"aws:CalledVia": {"cloudformation.amazonaws.com"}}
	deployTypes  = map[string][]string{"cloudformation:ResourceTypes": {"AWS::ECS::Service", "AWS::ElasticLoadBalancingV2::ListenerRule"}}
	prodStack    = fmt.Sprintf(stackARN, "demo-prod-20261202041500-0123abc")
	prStack      = fmt.Sprintf(stackARN, "demo-pr-42")
	sharedStack  = fmt.Sprintf(stackARN, "demo-shared")
	inCluster    = map[string][]string{"ecs:cluster": {"arn:aws:ecs:eu-west-1:123456789012:cluster/demo"}}
	otherCluster = map[string][]string{"ecs:cluster": {"arn:aws:ecs:eu-west-1:123456789012:cluster/other"}}
	toECSTasks   = map[string][]string{"iam:PassedToService": {"ecs-tasks.amazonaws.com"}}
	prodTaskDef  = fmt.Sprintf(taskDefARN, "demo-prod-20261202041500-0123abc")
	prTaskDef    = fmt.Sprintf(taskDefARN, "demo-pr-42")
	appTag       = map[string][]string{"aws:RequestTag/slipway:app": {"demo"}}
)

const (
	logStream = "arn:aws:logs:eu-west-1:123456789012:log-group:/slipway/demo:log-stream:"
	// A migration task's stream: awslogs names it prefix/container/task
	// ID (Amazon ECS Developer Guide, "Send Amazon ECS logs to
	// CloudWatch", awslogs-stream-prefix), the prefix being the task's
	// family.
	migrateStream   = logStream + "demo-prod-migrate/migrate/0123456789abcdef"
	prMigrateStream = logStream + "demo-pr-migrate/migrate/0123456789abcdef"
)

func TestPreviewRoleScope(t *testing.T) {
	p := loadPolicy(t, PolicyPreview)
	cases := []struct {
		name    string
		r       request
		allowed bool
		deny    bool // an explicit Deny, which no other policy on the role can override
	}{
		{"never ModifyRule on the production rule", request{"elasticloadbalancing:ModifyRule", prodRule, nil}, false, true},
		{"never ModifyRule even through CloudFormation", request{"elasticloadbalancing:ModifyRule", prodRule, viaCFN}, false, true},
		{"never deletes the production rule, even through CloudFormation", request{"elasticloadbalancing:DeleteRule", prodRule, map[string][]string{"aws:CalledVia": {"cloudformation.amazonaws.com"}, "aws:ResourceTag/slipway:kind": {"production"}}}, false, true},
		{"never tags over the production rule", request{"elasticloadbalancing:AddTags", prodRule, map[string][]string{"aws:CalledVia": {"cloudformation.amazonaws.com"}, "aws:ResourceTag/slipway:kind": {"production"}}}, false, true},
		{"never reorders rules", request{"elasticloadbalancing:SetRulePriorities", prodRule, viaCFN}, false, true},
		{"never deletes a production rule directly", request{"elasticloadbalancing:DeleteRule", prodRule, nil}, false, true},
		{"never deletes a release's test rule", request{"elasticloadbalancing:DeleteRule", testRule, viaCFN}, false, true},
		{"never creates a rule on the production listener, even through CloudFormation (any priority would do)", request{"elasticloadbalancing:CreateRule", listener, viaCFN}, false, true},
		{"never creates a listener on the production ALB, even through CloudFormation", request{"elasticloadbalancing:CreateListener", prodALB, viaCFN}, false, true},
		{"never tags production's listener", request{"elasticloadbalancing:AddTags", listener, viaCFN}, false, true},
		{"never deletes production's listener", request{"elasticloadbalancing:DeleteListener", listener, viaCFN}, false, true},
		{"sweeps a preview's leftover rule (not through CloudFormation)", request{"elasticloadbalancing:DeleteRule", pvRule, nil}, true, false},
		{"sweeps a preview's leftover listener", request{"elasticloadbalancing:DeleteListener", pvPort, nil}, true, false},
		{"creates its listener on the previews ALB through CloudFormation", request{"elasticloadbalancing:CreateListener", pvALB, viaCFN}, true, false},
		{"no rule on the previews ALB outside CloudFormation", request{"elasticloadbalancing:CreateRule", pvListener, nil}, false, false},
		{"never changes the shared listener", request{"elasticloadbalancing:ModifyListener", listener, viaCFN}, false, true},
		{"never updates a production stack", request{"cloudformation:UpdateStack", prodStack, deployTypes}, false, true},
		{"never deletes a production stack", request{"cloudformation:DeleteStack", prodStack, nil}, false, true},
		{"never executes a production change set", request{"cloudformation:ExecuteChangeSet", prodStack, nil}, false, true},
		{"never deletes the shared stack", request{"cloudformation:DeleteStack", sharedStack, nil}, false, true},
		{"never deletes a production target group", request{"elasticloadbalancing:DeleteTargetGroup", prodTG, viaCFN}, false, true},
		{"never changes a production service", request{"ecs:UpdateService", prodService, viaCFN}, false, true},
		{"never imports existing resources into a preview stack", request{"cloudformation:CreateChangeSet", prStack, map[string][]string{"cloudformation:ImportResourceTypes": {"AWS::ElasticLoadBalancingV2::ListenerRule"}}}, false, true},
		{"no IAM resources in a preview stack", request{"cloudformation:CreateStack", prStack, map[string][]string{"cloudformation:ResourceTypes": {"AWS::IAM::Role"}}}, false, false},
		{"never a change set that names no resource types (ForAllValues would pass it)", request{"cloudformation:CreateChangeSet", prStack, nil}, false, true},
		{"never a stack that names no resource types", request{"cloudformation:CreateStack", prStack, nil}, false, true},
		{"no target group outside CloudFormation", request{"elasticloadbalancing:CreateTargetGroup", previewTG, nil}, false, false},
		{"creates preview stacks", request{"cloudformation:CreateStack", prStack, deployTypes}, true, false},
		{"deletes preview stacks", request{"cloudformation:DeleteStack", prStack, nil}, true, false},
		{"creates its rule on the previews ALB through CloudFormation", request{"elasticloadbalancing:CreateRule", pvListener, viaCFN}, true, false},
		{"creates its target group through CloudFormation", request{"elasticloadbalancing:CreateTargetGroup", previewTG, viaCFN}, true, false},
		{"creates its service through CloudFormation", request{"ecs:CreateService", prService, viaCFN}, true, false},
		{"reads the shared stack's outputs", request{"cloudformation:DescribeStacks", sharedStack, nil}, true, false},
		{"pushes preview images to the previews repository", request{"ecr:PutImage", previewRepo, nil}, true, false},
		{"never pushes to the release repository (a re-tag would orphan a release's digest)", request{"ecr:PutImage", releaseRepo, nil}, false, false},
		{"never uploads layers to the release repository", request{"ecr:InitiateLayerUpload", releaseRepo, nil}, false, false},
		{"reads rules to find a free priority", request{"elasticloadbalancing:DescribeRules", "*", nil}, true, false},
		{"lists stacks (DescribeStacks without a name is authorized against *)", request{"cloudformation:DescribeStacks", "*", nil}, true, false},
		{"never takes the release lock", request{"dynamodb:PutItem", lockTable, nil}, false, false},
		{"never deletes the release lock", request{"dynamodb:DeleteItem", lockTable, nil}, false, false},
		{"never reads the canary metrics (nothing beyond listing stacks was added)", request{"cloudwatch:GetMetricData", "*", nil}, false, false},
		{"never untags the production rule (its last-live records)", request{"elasticloadbalancing:RemoveTags", prodRule, nil}, false, true},
		{"runs a preview's migration task", request{"ecs:RunTask", prTaskDef, inCluster}, true, false},
		{"never runs a production task definition", request{"ecs:RunTask", prodTaskDef, inCluster}, false, false},
		{"never runs tasks on another cluster", request{"ecs:RunTask", prTaskDef, otherCluster}, false, false},
		{"passes the preview execution role to ECS", request{"iam:PassRole", prExecRole, toECSTasks}, true, false},
		{"never passes the production execution role (it reads production secrets)", request{"iam:PassRole", execRole, toECSTasks}, false, false},
		{"never passes the preview execution role to another service", request{"iam:PassRole", prExecRole, map[string][]string{"iam:PassedToService": {"lambda.amazonaws.com"}}}, false, false},
		{"finds a preview's database secret by name (its ARN and tags, no value)", request{"secretsmanager:DescribeSecret", prSecretARN, nil}, true, false},
		{"never describes a production secret", request{"secretsmanager:DescribeSecret", prodSecret, nil}, false, false},
		{"never creates a preview's database secret (preview-database.yml does, with the release role)", request{"secretsmanager:CreateSecret", prSecretARN, nil}, false, false},
		{"never rewrites a preview's database secret", request{"secretsmanager:PutSecretValue", prSecretARN, nil}, false, false},
		{"never deletes a preview's database secret", request{"secretsmanager:DeleteSecret", prSecretARN, nil}, false, false},
		{"never retags a preview's database secret (its origin)", request{"secretsmanager:TagResource", prSecretARN, nil}, false, false},
		{"waits for its migration task", request{"ecs:DescribeTasks", "arn:aws:ecs:eu-west-1:123456789012:task/demo/0123456789abcdef", nil}, true, false},
		{"never creates or changes a production secret", request{"secretsmanager:PutSecretValue", prodSecret, nil}, false, false},
		{"never deletes a production secret", request{"secretsmanager:DeleteSecret", prodSecret, nil}, false, false},
		{"never reads a secret, not even its own", request{"secretsmanager:GetSecretValue", prSecretARN, nil}, false, true},
		{"never reads the database master secret", request{"secretsmanager:GetSecretValue", master, nil}, false, true},
		{"never runs SQL through the Data API", request{"rds-data:ExecuteStatement", appCluster, nil}, false, true},
		{"never changes the database cluster", request{"rds:ModifyDBCluster", appCluster, nil}, false, true},
		{"never deletes the database cluster", request{"rds:DeleteDBCluster", appCluster, nil}, false, true},
		{"registers a preview migration task definition tagged with the app", request{"ecs:RegisterTaskDefinition", "*", appTag}, true, false},
		{"deregisters a preview migration task definition", request{"ecs:DeregisterTaskDefinition", fmt.Sprintf(taskDefARN, "demo-pr-migrate"), nil}, true, false},
		{"never deregisters the production migration task definition", request{"ecs:DeregisterTaskDefinition", fmt.Sprintf(taskDefARN, "demo-prod-migrate"), nil}, false, false},
		{"reads a preview migration task's log stream", request{"logs:GetLogEvents", prMigrateStream, nil}, true, false},
		{"never reads a production migration task's log stream", request{"logs:GetLogEvents", migrateStream, nil}, false, false},
		{"opens its tasks' group to the ALB once CloudFormation has tagged it", request{"ec2:AuthorizeSecurityGroupIngress", taskSG, map[string][]string{"aws:CalledVia": {"cloudformation.amazonaws.com"}, "ec2:ResourceTag/aws:cloudformation:stack-name": {"demo-pr-42"}}}, true, false},
		{"never opens an untagged group (what inline ingress would need)", request{"ec2:AuthorizeSecurityGroupIngress", taskSG, viaCFN}, false, false},
		{"never opens a release's group", request{"ec2:AuthorizeSecurityGroupIngress", taskSG, map[string][]string{"aws:CalledVia": {"cloudformation.amazonaws.com"}, "ec2:ResourceTag/aws:cloudformation:stack-name": {"demo-prod-20261202041500-0123abc"}}}, false, false},
		{"reads its own tasks' log streams", request{"logs:GetLogEvents", logStream + "demo-pr-42/app/0123456789abcdef", nil}, true, false},
		{"never reads a release's task logs", request{"logs:GetLogEvents", logStream + "demo-prod-20261202041500-0123abc/app/0123456789abcdef", nil}, false, false},
		{"never searches the whole log group (FilterLogEvents has no per-stream permission)", request{"logs:FilterLogEvents", "arn:aws:logs:eu-west-1:123456789012:log-group:/slipway/demo", nil}, false, true},
		{"never reads a task definition (no resource-level permission: it shows production's environment)", request{"ecs:DescribeTaskDefinition", "*", nil}, false, true},
		{"still reads services for the rollout", request{"ecs:DescribeServices", prService, nil}, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := decide(t, p, c.r)
			if strings.HasPrefix(got, "allowed") != c.allowed || c.deny && !strings.HasPrefix(got, "denied") {
				t.Errorf("%s on %s: %s", c.r.action, c.r.resource, got)
			}
		})
	}
}

func TestReleaseRoleScope(t *testing.T) {
	p := loadPolicy(t, PolicyRelease)
	cases := []struct {
		name    string
		r       request
		allowed bool
	}{
		{"shifts production traffic", request{"elasticloadbalancing:ModifyRule", prodRule, nil}, true},
		{"records when stacks were live on the production rule", request{"elasticloadbalancing:AddTags", prodRule, nil}, true},
		{"drops the records of deleted stacks", request{"elasticloadbalancing:RemoveTags", prodRule, nil}, true},
		{"lists stacks (DescribeStacks without a name is authorized against *)", request{"cloudformation:DescribeStacks", "*", nil}, true},
		{"takes the app's lock", request{"dynamodb:PutItem", lockTable, nil}, true},
		{"renews the app's lock", request{"dynamodb:UpdateItem", lockTable, nil}, true},
		{"reads who holds the app's lock", request{"dynamodb:GetItem", lockTable, nil}, true},
		{"gives the app's lock up", request{"dynamodb:DeleteItem", lockTable, nil}, true},
		{"never touches another table", request{"dynamodb:PutItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/other-slipway-lock", nil}, false},
		{"never deletes the lock table", request{"dynamodb:DeleteTable", lockTable, nil}, false},
		{"reads the canary's load balancer metrics", request{"cloudwatch:GetMetricData", "*", nil}, true},
		{"scales and marks release stacks in place (UpdateStack with the previous template and its types)", request{"cloudformation:UpdateStack", prodStack, deployTypes}, true},
		{"never updates a stack without naming its resource types", request{"cloudformation:UpdateStack", prodStack, nil}, false},
		{"scales a release's service through CloudFormation", request{"ecs:UpdateService", prodService, viaCFN}, true},
		{"never scales a service outside CloudFormation (the stack stays the truth)", request{"ecs:UpdateService", prodService, nil}, false},
		{"creates the production rule", request{"elasticloadbalancing:CreateRule", listener, nil}, true},
		{"sweeps a deleted preview's leftover listener", request{"elasticloadbalancing:DeleteListener", pvPort, nil}, true},
		{"sweeps a deleted preview's leftover rule", request{"elasticloadbalancing:DeleteRule", pvRule, nil}, true},
		{"sweeps a deleted release's leftover test rule", request{"elasticloadbalancing:DeleteRule", testRule, nil}, true},
		{"never deletes production's listener outside CloudFormation", request{"elasticloadbalancing:DeleteListener", listener, nil}, false},
		{"deletes a preview stack's rule through CloudFormation (cleanup)", request{"elasticloadbalancing:DeleteRule", pvRule, viaCFN}, true},
		{"creates release stacks", request{"cloudformation:CreateStack", prodStack, deployTypes}, true},
		{"pushes release images", request{"ecr:PutImage", releaseRepo, nil}, true},
		{"cleans up stale previews", request{"cloudformation:DeleteStack", prStack, nil}, true},
		{"never deletes the shared stack", request{"cloudformation:DeleteStack", sharedStack, nil}, false},
		{"never touches another app's stacks", request{"cloudformation:DeleteStack", fmt.Sprintf(stackARN, "other-prod-20261202041500-0123abc"), nil}, false},
		{"never creates IAM resources through a stack", request{"cloudformation:UpdateStack", prodStack, map[string][]string{"cloudformation:ResourceTypes": {"AWS::IAM::User"}}}, false},
		{"runs a release's migration task", request{"ecs:RunTask", prodTaskDef, inCluster}, true},
		{"runs a preview's migration task", request{"ecs:RunTask", prTaskDef, inCluster}, true},
		{"never runs tasks on another cluster", request{"ecs:RunTask", prodTaskDef, otherCluster}, false},
		{"never runs another app's task definitions", request{"ecs:RunTask", fmt.Sprintf(taskDefARN, "other-prod-20261202041500-0123abc"), inCluster}, false},
		{"stops a hung migration", request{"ecs:StopTask", "arn:aws:ecs:eu-west-1:123456789012:task/demo/0123456789abcdef", nil}, true},
		{"passes the production execution role to ECS", request{"iam:PassRole", execRole, toECSTasks}, true},
		{"passes the preview execution role to ECS", request{"iam:PassRole", prExecRole, toECSTasks}, true},
		{"never passes an execution role to another service", request{"iam:PassRole", execRole, map[string][]string{"iam:PassedToService": {"ec2.amazonaws.com"}}}, false},
		{"never passes another role", request{"iam:PassRole", "arn:aws:iam::123456789012:role/admin", toECSTasks}, false},
		{"creates the production database secret", request{"secretsmanager:CreateSecret", prodSecret, nil}, true},
		{"drops a stale preview's secret", request{"secretsmanager:DeleteSecret", prSecretARN, nil}, true},
		{"never touches another app's secrets", request{"secretsmanager:GetSecretValue", secretARN + "other/prod/database-url-XyZ123", nil}, false},
		{"reads the master secret for the Data API", request{"secretsmanager:GetSecretValue", master, nil}, true},
		{"runs CREATE DATABASE through the Data API on the app's cluster", request{"rds-data:ExecuteStatement", appCluster, nil}, true},
		{"never runs statements on another cluster", request{"rds-data:ExecuteStatement", "arn:aws:rds:eu-west-1:123456789012:cluster:other-db", nil}, false},
		{"never deletes the database cluster", request{"rds:DeleteDBCluster", appCluster, nil}, false},
		{"registers a migration task definition tagged with the app", request{"ecs:RegisterTaskDefinition", "*", appTag}, true},
		{"tags the migration task definition it registers", request{"ecs:TagResource", fmt.Sprintf(taskDefARN, "demo-prod-migrate"), appTag}, true},
		{"never registers a task definition without the app's tag", request{"ecs:RegisterTaskDefinition", "*", nil}, false},
		{"deregisters a migration task definition after its run", request{"ecs:DeregisterTaskDefinition", fmt.Sprintf(taskDefARN, "demo-prod-migrate"), nil}, true},
		{"never deregisters a release stack's task definition", request{"ecs:DeregisterTaskDefinition", prodTaskDef, nil}, false},
		{"waits for a migration task", request{"ecs:DescribeTasks", "arn:aws:ecs:eu-west-1:123456789012:task/demo/0123456789abcdef", nil}, true},
		{"reads a migration task's log stream", request{"logs:GetLogEvents", migrateStream, nil}, true},
		{"stores the production URL", request{"secretsmanager:PutSecretValue", prodSecret, nil}, true},
		{"reads a stored URL to keep its password", request{"secretsmanager:GetSecretValue", prSecretARN, nil}, true},
		{"tags a preview's secret with the release it was cloned from", request{"secretsmanager:TagResource", prSecretARN, nil}, true},
		{"creates a preview's database secret (preview-database.yml)", request{"secretsmanager:CreateSecret", prSecretARN, nil}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := decide(t, p, c.r)
			if strings.HasPrefix(got, "allowed") != c.allowed {
				t.Errorf("%s on %s: %s", c.r.action, c.r.resource, got)
			}
		})
	}
}

func TestTrustPoliciesPinTheOIDCSubject(t *testing.T) {
	// The release role: production's environment (releases) and
	// preview-database's (preview-database.yml, the default branch's code
	// creating previews' databases); each environment allows the default
	// branch only, so a pull request's own workflow cannot claim it.
	cases := map[string][]string{TrustPreview: {"repo:acme/shop:pull_request", "repo:acme/shop:ref:refs/heads/main"},
		TrustRelease: {"repo:acme/shop:environment:production", "repo:acme/shop:environment:preview-database"}}
	for name, sub := range cases {
		t.Run(name, func(t *testing.T) {
			p := loadPolicy(t, name)
			if len(p.Statement) != 1 {
				t.Fatalf("%d statements, want 1", len(p.Statement))
			}
			st := p.Statement[0]
			fed := st.Principal["Federated"]
			if len(fed) != 1 || fed[0] != "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" {
				t.Errorf("principal %v: want the account's GitHub OIDC provider", st.Principal)
			}
			if len(st.Condition) != 1 || st.Condition["StringEquals"] == nil {
				t.Fatalf("conditions %v: want exact matches only (StringEquals), no wildcards", st.Condition)
			}
			eq := st.Condition["StringEquals"]
			if got := eq["token.actions.githubusercontent.com:sub"]; !slices.Equal(got, sub) {
				t.Errorf("subject %v, want %s", got, sub)
			}
			if got := eq["token.actions.githubusercontent.com:aud"]; len(got) != 1 || got[0] != "sts.amazonaws.com" {
				t.Errorf("audience %v, want sts.amazonaws.com", got)
			}
		})
	}
}

func TestPoliciesRender(t *testing.T) {
	long := PolicyVars{App: "abcdefghij-klmnopqrs", Account: "123456789012", Region: "ap-southeast-2", Repo: "some-org/some-repository"}
	for _, name := range PolicyNames() {
		b, err := Policy(name, long)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.ContainsAny(b, "<>") {
			t.Errorf("%s: a placeholder is left: %s", name, b)
		}
		var min bytes.Buffer
		if err := json.Compact(&min, b); err != nil {
			t.Fatal(err)
		}
		// A role's inline policies may hold 10,240 characters without
		// whitespace (the README installs them with put-role-policy).
		if min.Len() > 10240 {
			t.Errorf("%s: %d characters with the longest app name, over the 10,240 of a role's inline policies", name, min.Len())
		}
	}
	for _, bad := range []PolicyVars{{App: "demo", Account: "12345", Region: "eu-west-1", Repo: "a/b"}, {App: "demo", Account: "123456789012", Region: "eu-west-1", Repo: "a b"},
		{App: "demo", Account: "123456789012", Region: "eu-west-1", Repo: "acme@123/shop"}, // one ID only: not a subject GitHub issues
		{App: "demo", Account: "123456789012", Region: "eu-west-1", Repo: "acme/shop", DefaultBranch: "main:x"}} {
		if _, err := Policy(PolicyPreview, bad); err == nil {
			t.Errorf("Policy(%+v) rendered; want a refusal", bad)
		}
	}
}

// The deploy template may hold only the types both roles allow, and the
// tool names exactly its types in every change set (cfnstack): IAM reads
// cloudformation:ResourceTypes only from that request parameter (Service
// Authorization Reference, "Actions, resources, and condition keys for
// AWS CloudFormation"), and ForAllValues is true when the key is missing
// (IAM User Guide, "Single-valued vs. multivalued context keys"), so the
// roles also deny a request that names none.
func TestDeployTemplateTypesAreWhatTheRolesAllow(t *testing.T) {
	types, err := cfnstack.TemplateResourceTypes(DeployTemplate())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{PolicyPreview, PolicyRelease} {
		p := loadPolicy(t, name)
		var allowed []string
		for _, st := range p.Statement {
			if st.Sid == "DeployStacksOfTheDeployTemplateTypes" {
				allowed = st.Condition["ForAllValues:StringEquals"]["cloudformation:ResourceTypes"]
			}
		}
		slices.Sort(allowed)
		if !slices.Equal(types, allowed) {
			t.Errorf("%s allows %v; the deploy template has %v", name, allowed, types)
		}
		stack := prStack
		for _, action := range []string{"cloudformation:CreateChangeSet", "cloudformation:CreateStack", "cloudformation:UpdateStack"} {
			r := request{action, stack, map[string][]string{"cloudformation:ResourceTypes": types}}
			if got := decide(t, p, r); !strings.HasPrefix(got, "allowed") {
				t.Errorf("%s: %s with the deploy template's types: %s", name, action, got)
			}
			r.ctx = nil
			if got := decide(t, p, r); !strings.HasPrefix(got, "denied") {
				t.Errorf("%s: %s naming no types: %s, want an explicit deny", name, action, got)
			}
		}
	}
}
