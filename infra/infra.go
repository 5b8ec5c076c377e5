// Package infra holds the CloudFormation templates of the aws target (the
// shared stack and the per-deploy stack) and the IAM policies of its two
// roles, embedded, and builds the parameters the AWS provider passes to
// them. Parameter and output names live here and nowhere else.
package infra

import (
	"embed"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

//go:embed shared.yaml deploy.yaml iam/*.json
var files embed.FS

// SharedTemplate is the body of the shared stack's template (shared.yaml).
func SharedTemplate() string { return mustRead("shared.yaml") }

// DeployTemplate is the body of the per-deploy stack's template (deploy.yaml).
func DeployTemplate() string { return mustRead("deploy.yaml") }

func mustRead(name string) string {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("infra: embedded file missing: " + name) // a build defect, not input
	}
	return string(b)
}

// Roles a deploy stack can have (the same words as deploy.RolePreview and
// deploy.RoleProduction).
const (
	RolePreview    = "preview"
	RoleProduction = "production"
)

// Limits the builders enforce, from the ALB and ECS references.
const (
	MaxPreviewDeregistration    = 10 // seconds: previews drain fast
	MaxProductionDeregistration = 30 // seconds
	MaxListenersPerALB          = 50 // ALB quota, listeners per load balancer
	MaxRulePriority             = 50000
	// MaxEnv is how many environment variables a deploy stack takes: one
	// parameter each, and CloudFormation takes 200 parameters a template
	// (the deploy template's own are about 35); secrets take none.
	MaxEnv               = 150
	DefaultContainerPort = 8080
	DefaultCPU           = 256 // CPU units: 0.25 vCPU
	DefaultMemory        = 512 // MiB
	DefaultHealthPath    = "/healthz"
	DefaultHealthGrace   = 10 * time.Second // ECS ignores failed health checks this long after a task starts
	// DatabaseHealthGrace is the least grace a stack with a database gets:
	// an Aurora Serverless v2 cluster paused at 0 ACU takes about 15 s to
	// resume, longer after a long pause, and an app that checks its
	// database in its health check fails until then.
	DatabaseHealthGrace      = 60 * time.Second
	DefaultLogRetentionDays  = 14
	DefaultUntaggedImageDays = 7
	DefaultReleaseImagesKept = 50 // newest images of the release repository kept
	DefaultPreviewImageDays  = 14 // preview images expire this long after their push (twice SLIPWAY_PREVIEW_TTL's default)
	DefaultPreviewPortFirst  = 8001
	DefaultPreviewPortLast   = 8040 // 40 ports: the ALB keeps room for HTTP, HTTPS and spares
	DefaultVPCCIDR           = "10.42.0.0/16"
	DefaultSubnetACIDR       = "10.42.0.0/20"
	DefaultSubnetBCIDR       = "10.42.16.0/20"
	// TestHeader is the header whose value (a stack name) reaches that
	// stack through its own listener rule, before it carries any traffic.
	TestHeader = "X-Slipway-Stack"
	// Fargate capacity providers of a deploy stack's service.
	CapacityOnDemand = "FARGATE"
	CapacitySpot     = "FARGATE_SPOT"
)

// Outputs of the shared stack. The tool reads them and passes them to deploy
// stacks as parameters (never Fn::ImportValue).
const (
	OutputRepositoryURI         = "RepositoryUri"
	OutputRepositoryName        = "RepositoryName"
	OutputPreviewRepositoryURI  = "PreviewRepositoryUri" // previews push here, releases to RepositoryUri
	OutputPreviewRepositoryName = "PreviewRepositoryName"
	OutputClusterName           = "ClusterName"
	OutputClusterARN            = "ClusterArn"
	OutputVPCID                 = "VpcId"
	OutputSubnetIDs             = "SubnetIds"                   // comma-separated
	OutputExecutionRoleARN      = "TaskExecutionRoleArn"        // production tasks: reads <app>/* secrets
	OutputPreviewExecutionRole  = "PreviewTaskExecutionRoleArn" // preview tasks: reads <app>/pr-* secrets only
	OutputAppTasksSGID          = "AppTasksSecurityGroupId"     // every task carries it; the database admits it
	OutputLogGroupName          = "LogGroupName"
	OutputLoadBalancerARN       = "LoadBalancerArn"
	OutputLoadBalancerDNSName   = "LoadBalancerDnsName"
	OutputLoadBalancerSGID      = "LoadBalancerSecurityGroupId"
	OutputALBListenerARN        = "ListenerArn" // production ALB: the production rule and releases' test rules; HTTPS when a certificate is given, else HTTP
	OutputHTTPListenerARN       = "HttpListenerArn"
	OutputScheme                = "Scheme"           // "http" or "https"
	OutputDomain                = "Domain"           // production's, only when a domain and hosted zone are given
	OutputPreviewPortFirst      = "PreviewPortFirst" // only without a preview domain
	OutputPreviewPortLast       = "PreviewPortLast"  // only without a preview domain
	// The previews' own ALB: preview stacks put their rules and listeners
	// there; the preview role may change no other.
	OutputPreviewLoadBalancerARN  = "PreviewLoadBalancerArn"
	OutputPreviewLoadBalancerDNS  = "PreviewLoadBalancerDnsName"
	OutputPreviewLoadBalancerSGID = "PreviewLoadBalancerSecurityGroupId"
	OutputPreviewListenerARN      = "PreviewRulesListenerArn" // HTTPS with a preview certificate, else HTTP
	OutputPreviewScheme           = "PreviewScheme"
	OutputPreviewDomain           = "PreviewDomain"       // only with a preview domain and hosted zone
	OutputDeployTargetGroupARN    = "TargetGroupArn"      // deploy stack
	OutputDeployServiceARN        = "ServiceArn"          // deploy stack
	OutputDeployServiceName       = "ServiceName"         // deploy stack
	OutputDeployTaskDefinition    = "TaskDefinitionArn"   // deploy stack; a migration is a RunTask of it
	OutputDeployTaskSGID          = "TaskSecurityGroupId" // deploy stack: the tasks' own group (a RunTask gets it and AppTasksSecurityGroupId)
	OutputDeployListenerRuleARN   = "ListenerRuleArn"     // deploy stack: its host or test-header rule
	OutputDeployPreviewListener   = "PreviewListenerArn"  // deploy stack, port mode only
	OutputDeployURL               = "Url"                 // deploy stack, previews only
)

// param is shorthand for one CloudFormation parameter.
func param(k, v string) cfntypes.Parameter {
	return cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)}
}

func itoa(n int) string { return strconv.Itoa(n) }

func errf(format string, a ...any) error {
	return fmt.Errorf("build stack parameters: "+format, a...)
}
