package infra

import (
	"regexp"
	"strings"
	"time"

	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/slipway/slipway/internal/naming"
)

// DeployParams are the settings of one deploy stack: a preview (Role
// RolePreview) or a release (RoleProduction). The stack's own name reaches
// the container as SLIPWAY_STACK; its tags are set by the tool on the stack.
//
// Every stack gets one listener rule on Shared.ListenerARN at Priority (the
// tool allocates a free one): a preview in host mode matches Host; any other
// stack matches the header TestHeader with the stack's name, which attaches
// its target group to the ALB (ECS refuses a service whose target group has
// no load balancer) and lets a release be tested before traffic moves. A
// preview without a domain also gets a listener of its own on ListenerPort.
// Production traffic never goes through a template: the tool owns that rule.
type DeployParams struct {
	Stack string // stack name from package naming; names the target group
	Role  string // RolePreview or RoleProduction
	Image string // immutable reference: <repo>@sha256:...
	// Env is the app's environment, at most MaxEnv variables: the names
	// are written into the rendered template (Template), each value is a
	// NoEcho parameter.
	Env map[string]string
	// Secrets maps a variable of the app to the ARN of a Secrets Manager
	// secret or an SSM parameter (never a value): the task definition's
	// Secrets, read by the execution role when a task starts.
	Secrets map[string]string
	// Platform is the image's "os/arch": linux/amd64 (or "", announced by
	// the caller) runs on X86_64, linux/arm64 on ARM64 (and never on
	// Fargate Spot, which runs X86_64 only); anything else is refused.
	Platform string

	CPU, Memory int // CPU units and MiB; zero: 256 and 512
	// OnDemand runs a preview on regular Fargate; previews run on
	// FARGATE_SPOT otherwise (about a third of the price; AWS may stop a
	// task with two minutes' notice and the service replaces it). Releases
	// always run on regular Fargate.
	OnDemand      bool
	DesiredCount  int    // zero: 1
	ContainerPort int    // zero: 8080
	HealthPath    string // empty: /healthz
	// The target group's health check: interval (whole seconds, 5-300;
	// zero: 5 s), timeout (2-120 s, less than the interval; zero: 4 s)
	// and thresholds (2-10; zero: 2).
	HealthInterval, HealthTimeout        time.Duration
	HealthyThreshold, UnhealthyThreshold int
	// HealthGrace is how long ECS ignores failed health checks after a task
	// starts (the manifest's health.grace); zero: DefaultHealthGrace. With a
	// database it is at least DatabaseHealthGrace.
	HealthGrace         time.Duration
	DeregistrationDelay time.Duration // zero: 10 s preview, 30 s production

	Host         string // preview host mode: pr-42.preview.example.com
	Priority     int    // listener rule priority, 1-50000
	ListenerPort int    // preview port mode: a port in the shared range

	// DatabaseSecretARN names a Secrets Manager secret whose value (a
	// postgres:// URL) the container gets as DATABASE_URL; empty: none.
	// Named <app>/... (a preview's <app>/pr-...): the only secrets the
	// stack's task execution role may read.
	DatabaseSecretARN string

	Shared SharedOutputs
}

var (
	envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,254}$`)
	hostRe    = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	pathRe    = regexp.MustCompile(`^/[A-Za-z0-9/._~-]{0,1000}$`)
	reserved  = map[string]bool{"SLIPWAY_STACK": true, "PORT": true, DatabaseURLEnv: true}
)

// maxParamValue is CloudFormation's limit on one parameter value, in bytes.
const maxParamValue = 4096

// Fargate's CPU units and the memory (MiB) each accepts.
var fargateMemory = map[int][2]int{256: {512, 2048}, 512: {1024, 4096}, 1024: {2048, 8192}, 2048: {4096, 16384}, 4096: {8192, 30720}}

// Parameters checks the settings and returns the deploy stack's parameters.
func (p DeployParams) Parameters() ([]cfntypes.Parameter, error) {
	p = p.withDefaults()
	if err := p.validate(); err != nil {
		return nil, err
	}
	s := p.Shared.ForRole(p.Role) // a preview's rules and listener go on the previews ALB
	out := []cfntypes.Parameter{
		param("Role", p.Role),
		param("Image", p.Image),
		param("Cpu", itoa(p.CPU)),
		param("CapacityProvider", p.capacityProvider()),
		param("Memory", itoa(p.Memory)),
		param("DesiredCount", itoa(p.DesiredCount)),
		param("ContainerPort", itoa(p.ContainerPort)),
		param("HealthPath", p.HealthPath),
		param("HealthCheckGracePeriod", itoa(int(p.HealthGrace/time.Second))),
		param("HealthInterval", itoa(int(p.HealthInterval/time.Second))),
		param("HealthTimeout", itoa(int(p.HealthTimeout/time.Second))),
		param("HealthyThreshold", itoa(p.HealthyThreshold)),
		param("UnhealthyThreshold", itoa(p.UnhealthyThreshold)),
		param("CpuArchitecture", architectures[p.Platform]),
		param("DeregistrationDelay", itoa(int(p.DeregistrationDelay/time.Second))),
		param("TargetGroupName", naming.ELB(p.Stack)),
		param("Host", p.Host),
		param("Priority", itoa(p.Priority)),
		param("ListenerPort", itoa(p.ListenerPort)),
		param("Scheme", s.Scheme),
		param("Cluster", s.ClusterName),
		param("VpcId", s.VPCID),
		param("SubnetIds", strings.Join(s.SubnetIDs, ",")),
		param("ExecutionRoleArn", p.executionRole()),
		param("AppTasksSecurityGroupId", s.AppTasksSGID),
		param("DatabaseSecretArn", p.DatabaseSecretARN),
		param("LogGroupName", s.LogGroupName),
		param("LoadBalancerArn", s.LoadBalancerARN),
		param("LoadBalancerDnsName", s.LoadBalancerDNSName),
		param("LoadBalancerSecurityGroupId", s.LoadBalancerSGID),
		param("ListenerArn", s.ListenerARN),
	}
	for i, k := range sortedKeys(p.Env) {
		out = append(out, param(envParam(i), p.Env[k]))
	}
	return out, nil
}

// capacityProvider is FARGATE_SPOT for a preview, unless asked otherwise
// or the image is ARM64 (Fargate Spot runs X86_64 tasks only: Amazon ECS
// Developer Guide, "AWS Fargate capacity providers", considerations),
// and FARGATE for a release.
func (p DeployParams) capacityProvider() string {
	if p.Role == RolePreview && !p.OnDemand && architectures[p.Platform] != ArchARM64 {
		return CapacitySpot
	}
	return CapacityOnDemand
}

// executionRole is the task execution role for the stack's role: a preview's
// reads only the previews' secrets.
func (p DeployParams) executionRole() string {
	if p.Role == RolePreview {
		return p.Shared.PreviewExecutionRoleARN
	}
	return p.Shared.ExecutionRoleARN
}

func (p DeployParams) withDefaults() DeployParams {
	if p.CPU == 0 {
		p.CPU = DefaultCPU
	}
	if p.Memory == 0 {
		p.Memory = DefaultMemory
	}
	if p.DesiredCount == 0 {
		p.DesiredCount = 1
	}
	if p.ContainerPort == 0 {
		p.ContainerPort = DefaultContainerPort
	}
	if p.HealthPath == "" {
		p.HealthPath = DefaultHealthPath
	}
	p = p.healthDefaults()
	if p.HealthGrace == 0 {
		p.HealthGrace = DefaultHealthGrace
	}
	if p.DatabaseSecretARN != "" && p.HealthGrace < DatabaseHealthGrace {
		p.HealthGrace = DatabaseHealthGrace
	}
	if p.DeregistrationDelay == 0 {
		p.DeregistrationDelay = MaxPreviewDeregistration * time.Second
		if p.Role == RoleProduction {
			p.DeregistrationDelay = MaxProductionDeregistration * time.Second
		}
	}
	return p
}

func (p DeployParams) validate() error {
	if !naming.ValidStack(p.Stack) {
		return errf("stack name %q: want letters, digits and hyphens, starting with a letter (names come from package naming)", p.Stack)
	}
	if p.Image == "" {
		return errf("stack %s: no image: push the image first and pass its digest reference", p.Stack)
	}
	if err := p.validateSize(); err != nil {
		return err
	}
	if err := p.validateRouting(); err != nil {
		return err
	}
	if err := validateEnv(p.Env); err != nil {
		return err
	}
	if err := p.validateApp(); err != nil {
		return err
	}
	if err := p.validateDatabaseSecret(); err != nil {
		return err
	}
	return validateShared(p.Shared.ForRole(p.Role))
}

func (p DeployParams) validateSize() error {
	mem, ok := fargateMemory[p.CPU]
	if !ok {
		return errf("CPU %d units: Fargate takes 256, 512, 1024, 2048 or 4096", p.CPU)
	}
	if p.Memory < mem[0] || p.Memory > mem[1] || (p.Memory != 512 && p.Memory%1024 != 0) {
		return errf("memory %d MiB with %d CPU units: Fargate takes %d-%d MiB (in GiB steps above 512)", p.Memory, p.CPU, mem[0], mem[1])
	}
	if p.DesiredCount < 1 || p.DesiredCount > 10 {
		return errf("desired count %d: want 1-10 tasks", p.DesiredCount)
	}
	if p.ContainerPort < 1 || p.ContainerPort > 65535 {
		return errf("container port %d: want 1-65535", p.ContainerPort)
	}
	if !pathRe.MatchString(p.HealthPath) {
		return errf("health check path %q: want an absolute URL path such as /healthz", p.HealthPath)
	}
	if g := p.HealthGrace; g < 0 || g%time.Second != 0 || g > 2147483647*time.Second {
		return errf("health check grace %s: want whole seconds, at most 2147483647s (ECS's limit)", g)
	}
	return nil
}

func (p DeployParams) validateRouting() error {
	limit := MaxPreviewDeregistration
	switch p.Role {
	case RolePreview:
	case RoleProduction:
		limit = MaxProductionDeregistration
		if p.Host != "" || p.ListenerPort != 0 {
			return errf("stack %s: a production stack gets no host or port (production traffic moves through the production rule)", p.Stack)
		}
	default:
		return errf("stack %s: role %q: want %q or %q", p.Stack, p.Role, RolePreview, RoleProduction)
	}
	d := p.DeregistrationDelay
	if d < 0 || d%time.Second != 0 || d > time.Duration(limit)*time.Second {
		return errf("deregistration delay %s for a %s stack: want whole seconds, at most %ds", d, p.Role, limit)
	}
	if p.Priority < 1 || p.Priority > MaxRulePriority {
		return errf("stack %s: listener rule priority %d: want 1-%d (allocate a free one)", p.Stack, p.Priority, MaxRulePriority)
	}
	if p.Role != RolePreview {
		return nil
	}
	switch {
	case p.Host != "" && p.ListenerPort != 0:
		return errf("preview %s: give a host (domain set) or a listener port (no domain), not both", p.Stack)
	case p.Host != "":
		if !hostRe.MatchString(p.Host) {
			return errf("preview %s: host %q is not a lower-case DNS name such as pr-42.example.com", p.Stack, p.Host)
		}
	case p.ListenerPort != 0:
		first, last := p.Shared.PreviewPortFirst, p.Shared.PreviewPortLast
		if p.ListenerPort < 1 || p.ListenerPort > 65535 || (last != 0 && (p.ListenerPort < first || p.ListenerPort > last)) {
			return errf("preview %s: listener port %d is outside the preview range %d-%d (all in use? destroy stale previews)", p.Stack, p.ListenerPort, first, last)
		}
	default:
		return errf("preview %s: no host and no listener port: a preview needs one (host with a domain, port without)", p.Stack)
	}
	return nil
}

func validateEnv(env map[string]string) error {
	if len(env) > MaxEnv {
		return errf("%d environment variables: a deploy stack takes at most %d", len(env), MaxEnv)
	}
	for k, v := range env {
		if len(v) > maxParamValue {
			// a longer value belongs in a secret: slipway.yaml's secrets
			return errf("environment variable %s: %d bytes, a stack parameter holds at most %d", k, len(v), maxParamValue)
		}
		if !envNameRe.MatchString(k) {
			return errf("environment variable name %q: want letters, digits and underscores, not starting with a digit", k)
		}
		if reserved[k] {
			if k == DatabaseURLEnv {
				return errf("environment variable %s: pass the database URL as a secret (DatabaseSecretARN), never as plain environment", k)
			}
			return errf("environment variable %s is set by Slipway itself; choose another name", k)
		}
	}
	return nil
}

func validateShared(s SharedOutputs) error {
	for k, v := range map[string]string{
		OutputClusterName: s.ClusterName, OutputVPCID: s.VPCID, OutputExecutionRoleARN: s.ExecutionRoleARN,
		OutputPreviewExecutionRole: s.PreviewExecutionRoleARN, OutputAppTasksSGID: s.AppTasksSGID,
		OutputLogGroupName: s.LogGroupName, OutputLoadBalancerARN: s.LoadBalancerARN,
		OutputLoadBalancerDNSName: s.LoadBalancerDNSName, OutputLoadBalancerSGID: s.LoadBalancerSGID,
		OutputALBListenerARN: s.ListenerARN, OutputScheme: s.Scheme,
	} {
		if v == "" {
			return errf("shared stack output %s is empty (read the shared stack with ParseSharedOutputs; run shared:deploy)", k)
		}
	}
	if len(s.SubnetIDs) < 2 {
		return errf("shared stack output %s: %d subnets, want at least two", OutputSubnetIDs, len(s.SubnetIDs))
	}
	return nil
}
