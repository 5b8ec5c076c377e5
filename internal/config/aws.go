package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AWS are the aws target's settings: where the shared stack's network,
// certificate and DNS come from, which URL scheme previews get, the size
// of each deploy, and an optional registry mirror for pushes.
type AWS struct {
	HostedZoneID   string   // SLIPWAY_AWS_HOSTED_ZONE_ID: with SLIPWAY_DOMAIN, previews get host names
	CertificateARN string   // SLIPWAY_AWS_CERTIFICATE_ARN: HTTPS listener, HTTP redirects
	VPCID          string   // SLIPWAY_AWS_VPC_ID: an existing VPC; empty: the shared stack makes one
	SubnetIDs      []string // SLIPWAY_AWS_SUBNET_IDS: two or more public subnets of the VPC
	PortFirst      int      // SLIPWAY_AWS_PREVIEW_PORTS: ALB ports for previews without a domain
	PortLast       int
	CPU, Memory    int    // SLIPWAY_AWS_CPU, SLIPWAY_AWS_MEMORY: Fargate size of each deploy
	RegistryMirror string // SLIPWAY_REGISTRY_MIRROR: push here with the ECR login instead of ECR
	// SLIPWAY_PREVIEW_DOMAIN, SLIPWAY_AWS_PREVIEW_HOSTED_ZONE_ID and
	// SLIPWAY_AWS_PREVIEW_CERTIFICATE_ARN: previews at pr-<N>.<preview
	// domain>, out of production's cookie scope; unset, previews use
	// production's domain (with a hosted zone) or ALB ports.
	PreviewDomain, PreviewHostedZoneID, PreviewCertificateARN string
}

// awsSettings are documented with the others (README, `config`).
var awsSettings = []Setting{
	{"SLIPWAY_AWS_HOSTED_ZONE_ID", "(none)", "aws: Route 53 zone of SLIPWAY_DOMAIN; set: previews at pr-<N>.<domain>, unset: previews on ALB ports", false},
	{"SLIPWAY_AWS_CERTIFICATE_ARN", "(none)", "aws: ACM certificate for HTTPS on the shared ALB (HTTP then redirects)", false},
	{"SLIPWAY_AWS_VPC_ID", "(none: a new VPC)", "aws: existing VPC for the shared stack", false},
	{"SLIPWAY_AWS_SUBNET_IDS", "(none)", "aws: comma-separated public subnets of SLIPWAY_AWS_VPC_ID, two or more", false},
	{"SLIPWAY_AWS_PREVIEW_PORTS", "8001-8040", "aws without a hosted zone: ALB listener ports previews get", false},
	{"SLIPWAY_AWS_CPU", "slipway.yaml's resources.cpu, else 256", "aws: Fargate CPU units of each deploy (256 = 0.25 vCPU)", false},
	{"SLIPWAY_AWS_MEMORY", "slipway.yaml's resources.memory, else 512", "aws: Fargate memory (MiB) of each deploy", false},
	{"SLIPWAY_PREVIEW_DOMAIN", "(none: SLIPWAY_DOMAIN's)", "aws: a domain of the previews' own (pr-<N>.<it>), with SLIPWAY_AWS_PREVIEW_HOSTED_ZONE_ID: keeps previews out of production's cookie scope", false},
	{"SLIPWAY_AWS_PREVIEW_HOSTED_ZONE_ID", "(none)", "aws: Route 53 zone of SLIPWAY_PREVIEW_DOMAIN (both or neither)", false},
	{"SLIPWAY_AWS_PREVIEW_CERTIFICATE_ARN", "(none: SLIPWAY_AWS_CERTIFICATE_ARN)", "aws: ACM certificate for HTTPS on the previews ALB; must cover *.<preview domain>", false},
	{"SLIPWAY_REGISTRY_MIRROR", "(none)", "aws: registry host[:port] that push sends the app image to with the ECR login, instead of ECR (a mirror fronting ECR; tests use a local registry)", false},
}

func (p *parser) aws(domain string) AWS {
	a := AWS{
		HostedZoneID:   p.str("SLIPWAY_AWS_HOSTED_ZONE_ID", ""),
		CertificateARN: p.str("SLIPWAY_AWS_CERTIFICATE_ARN", ""),
		VPCID:          p.str("SLIPWAY_AWS_VPC_ID", ""),
		CPU:            p.count4096("SLIPWAY_AWS_CPU", fromFile(p, "SLIPWAY_AWS_CPU", "resources.cpu", p.m.Resources.CPU, 256)),
		Memory:         p.count4096("SLIPWAY_AWS_MEMORY", fromFile(p, "SLIPWAY_AWS_MEMORY", "resources.memory", p.m.Resources.Memory, 512)),
		RegistryMirror: strings.TrimSuffix(p.str("SLIPWAY_REGISTRY_MIRROR", ""), "/"),
	}
	if v := p.str("SLIPWAY_AWS_SUBNET_IDS", ""); v != "" { // str records the source
		for _, s := range strings.Split(v, ",") {
			a.SubnetIDs = append(a.SubnetIDs, strings.TrimSpace(s))
		}
	}
	if (a.VPCID == "") != (len(a.SubnetIDs) == 0) {
		p.problem(errors.New("set both SLIPWAY_AWS_VPC_ID and SLIPWAY_AWS_SUBNET_IDS (an existing network), or neither (the shared stack makes one)"))
	}
	if a.HostedZoneID != "" && domain == "localhost" {
		p.problem(errors.New("SLIPWAY_AWS_HOSTED_ZONE_ID is set but SLIPWAY_DOMAIN is localhost: set SLIPWAY_DOMAIN to the zone's domain, e.g. preview.example.com"))
	}
	a.PortFirst, a.PortLast = p.portRange("SLIPWAY_AWS_PREVIEW_PORTS", 8001, 8040)
	a.PreviewDomain = strings.TrimSuffix(strings.ToLower(p.str("SLIPWAY_PREVIEW_DOMAIN", "")), ".")
	a.PreviewHostedZoneID = p.str("SLIPWAY_AWS_PREVIEW_HOSTED_ZONE_ID", "")
	a.PreviewCertificateARN = p.str("SLIPWAY_AWS_PREVIEW_CERTIFICATE_ARN", "")
	if (a.PreviewDomain == "") != (a.PreviewHostedZoneID == "") {
		p.problem(errors.New("set both SLIPWAY_PREVIEW_DOMAIN and SLIPWAY_AWS_PREVIEW_HOSTED_ZONE_ID (previews at pr-<N>.<preview domain>), or neither"))
	}
	if a.PreviewCertificateARN != "" && a.PreviewDomain == "" {
		p.problem(errors.New("SLIPWAY_AWS_PREVIEW_CERTIFICATE_ARN is set without SLIPWAY_PREVIEW_DOMAIN: the certificate is for the previews' own domain"))
	}
	return a
}

// PreviewHostMode reports whether previews get host names: under their
// own domain, or under production's with its hosted zone.
func (a AWS) PreviewHostMode() bool { return a.PreviewDomain != "" || a.HostMode() }

// AWSPreviewScheme is the scheme of previews' host URLs: https with the
// previews' certificate (their own, else production's).
func (c Config) AWSPreviewScheme() string {
	if c.AWS.PreviewCertificateARN != "" || (c.AWS.PreviewDomain == "" && c.AWS.CertificateARN != "") {
		return "https"
	}
	return "http"
}

// HostMode reports whether previews get host names under the domain
// (rather than ports on the shared ALB).
func (a AWS) HostMode() bool { return a.HostedZoneID != "" }

// MinAWSHealthTimeout is the least time the aws target gives a Fargate
// task to start and pass its health checks (image pull, network
// interface, two checks 5 s apart): a shorter SLIPWAY_HEALTH_TIMEOUT is
// raised to it there.
const MinAWSHealthTimeout = 5 * time.Minute

// HealthTimeoutInForce is the bound on waiting for a stack to be healthy
// on the configured target, and why it is not SLIPWAY_HEALTH_TIMEOUT when
// it is not ("" when it is).
func (c Config) HealthTimeoutInForce() (time.Duration, string) {
	if c.Target == TargetAWS && c.HealthTimeout < MinAWSHealthTimeout {
		return MinAWSHealthTimeout, fmt.Sprintf("raised from %s: the aws target gives a Fargate task at least %s to pull its image, start and pass its health checks",
			c.HealthTimeout, MinAWSHealthTimeout)
	}
	return c.HealthTimeout, ""
}

// AWSScheme is the scheme of the aws target's URLs with a hosted zone:
// https with a certificate.
func (c Config) AWSScheme() string {
	if c.AWS.CertificateARN != "" {
		return "https"
	}
	return "http"
}

// AWSProductionHost is the host production answers on with a hosted zone:
// the domain itself.
func (c Config) AWSProductionHost() string { return c.Domain }

// AWSPreviewHost is a preview's host name in host mode: pr-<N>.<preview
// domain>, else pr-<N>.<domain>.
func (c Config) AWSPreviewHost(label string) string {
	if c.AWS.PreviewDomain != "" {
		return label + "." + c.AWS.PreviewDomain
	}
	return label + "." + c.Domain
}

// URLScheme says in words which URLs previews get on aws.
func (c Config) URLScheme() string {
	if c.AWS.HostMode() {
		return fmt.Sprintf("host names: %s://%s, production %s://%s", c.AWSPreviewScheme(), c.AWSPreviewHost("pr-<N>"), c.AWSScheme(), c.AWSProductionHost())
	}
	if c.AWS.PreviewHostMode() {
		return fmt.Sprintf("host names: %s://%s; production on the shared ALB's port 80 (no SLIPWAY_AWS_HOSTED_ZONE_ID)", c.AWSPreviewScheme(), c.AWSPreviewHost("pr-<N>"))
	}
	return fmt.Sprintf("ALB ports: http://<shared ALB DNS name>:<port %d-%d>/, production on port 80 (no SLIPWAY_AWS_HOSTED_ZONE_ID)", c.AWS.PortFirst, c.AWS.PortLast)
}

func (p *parser) portRange(k string, first, last int) (int, int) {
	v := p.env(k)
	if v == "" {
		return first, last
	}
	p.set(k, Source{Env: k})
	a, b, ok := strings.Cut(v, "-")
	f, err1 := strconv.Atoi(strings.TrimSpace(a))
	l, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || f < 1024 || l > 65535 || f > l {
		p.problem(fmt.Errorf("%s=%q is not a port range: set it like 8001-8040 (within 1024-65535)", k, v))
		return first, last
	}
	return f, l
}

func (p *parser) count4096(k string, def int) int {
	v := p.env(k)
	if v == "" {
		return def
	}
	p.set(k, Source{Env: k})
	n, err := strconv.Atoi(v)
	if err != nil || n < 256 || n > 30720 {
		p.problem(fmt.Errorf("%s=%q is not a Fargate size: CPU 256, 512, 1024, 2048 or 4096; memory in MiB, e.g. 512 or 2048", k, v))
		return def
	}
	return n
}

// awsRows are the aws settings as `config` prints them.
func awsRows(c Config) []row {
	if c.Target != TargetAWS {
		return nil
	}
	return []row{
		c.set("SLIPWAY_AWS_HOSTED_ZONE_ID", orUnset(c.AWS.HostedZoneID)),
		c.set("SLIPWAY_AWS_CERTIFICATE_ARN", orUnset(c.AWS.CertificateARN)),
		c.set("SLIPWAY_AWS_VPC_ID", orUnset(c.AWS.VPCID)),
		c.set("SLIPWAY_AWS_SUBNET_IDS", orUnset(strings.Join(c.AWS.SubnetIDs, ","))),
		c.set("SLIPWAY_AWS_PREVIEW_PORTS", fmt.Sprintf("%d-%d", c.AWS.PortFirst, c.AWS.PortLast)),
		c.set("SLIPWAY_AWS_CPU", strconv.Itoa(c.AWS.CPU)),
		c.set("SLIPWAY_AWS_MEMORY", strconv.Itoa(c.AWS.Memory)),
		c.set("SLIPWAY_REGISTRY_MIRROR", orUnset(c.AWS.RegistryMirror)),
		{"URL scheme", "derived", c.URLScheme()},
	}
}

// awsURLs are the production URL and the URL of a preview (host label
// label) as the aws target gives them: host names under the domain with a
// hosted zone, else the shared ALB's DNS name (known once shared:deploy
// made it) on port 80 and on a port of the preview range.
func (c Config) awsURLs(label string) (production, preview string) {
	production = "http://<shared ALB DNS name>"
	if c.AWS.HostMode() {
		production = c.AWSScheme() + "://" + c.AWSProductionHost()
	}
	if c.AWS.PreviewHostMode() {
		return production, c.AWSPreviewScheme() + "://" + c.AWSPreviewHost(label)
	}
	return production, fmt.Sprintf("http://<shared ALB DNS name>:<a port of %d-%d, given at deploy>", c.AWS.PortFirst, c.AWS.PortLast)
}
