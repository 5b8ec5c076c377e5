package infra

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/slipway/slipway/internal/naming"
)

// SharedParams are the settings of the shared stack <app>-shared. Zero
// values take the defaults above; every parameter is always passed, so an
// update with the same settings is a no-op.
type SharedParams struct {
	App string // SLIPWAY_APP; names the repository, cluster and log group

	// An existing network: both empty creates a VPC with two public subnets
	// in two zones from the CIDRs below (defaults DefaultVPCCIDR...).
	VPCID       string
	SubnetIDs   []string // two or more public subnets of VPCID
	VPCCIDR     string
	SubnetCIDRs [2]string

	CertificateARN string // ACM certificate: adds HTTPS, HTTP then redirects
	Domain         string // production's; with HostedZoneID: an alias record for Domain
	HostedZoneID   string
	// NoApexRecord leaves Domain's A record to the user: the zone already
	// has one (CloudFormation would fail creating it), e.g. the site being
	// moved; point it at the production ALB (LoadBalancerDnsName) yourself.
	NoApexRecord bool

	// Previews run behind their own ALB (previews.go). PreviewDomain (and
	// its zone and certificate) default to Domain's: previews are then
	// pr-N.<domain>, under an alias record for *.<domain>. Set them to a
	// domain of their own to keep previews out of production's cookies.
	PreviewDomain         string
	PreviewHostedZoneID   string
	PreviewCertificateARN string

	// Listener ports of the previews ALB for previews when there is no
	// preview domain; opened in its security group only then. Zero:
	// DefaultPreviewPort*.
	PreviewPortFirst, PreviewPortLast int

	// Settings a security scanner asks for that cost money or need
	// resources of the user's (infra/README.md, "Scanner findings").
	ContainerInsights string // "" (disabled), "enabled" or "enhanced"
	AccessLogsBucket  string // S3 bucket for both ALBs' access logs; "": none
	LogsKMSKeyARN     string // KMS key of the task log group; "": CloudWatch Logs' own encryption

	LogRetentionDays  int // zero: DefaultLogRetentionDays
	UntaggedImageDays int // zero: DefaultUntaggedImageDays
	ReleaseImagesKept int // zero: DefaultReleaseImagesKept
	PreviewImageDays  int // zero: DefaultPreviewImageDays

	// Database adds an Aurora Serverless v2 PostgreSQL cluster <app>-db
	// (0 ACU minimum: it pauses when idle) scaling up to MaxACU (zero:
	// DefaultMaxACU). Off by default: an app without a database needs none.
	Database bool
	MaxACU   float64
}

var (
	vpcIDRe    = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	subnetIDRe = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	zoneIDRe   = regexp.MustCompile(`^[0-9A-Z]{1,32}$`)
	certARNRe  = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$`)
	domainRe   = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// Retention periods CloudWatch Logs accepts.
var logRetentions = map[int]bool{1: true, 3: true, 5: true, 7: true, 14: true, 30: true, 60: true, 90: true, 120: true, 150: true, 180: true, 365: true, 400: true, 545: true, 731: true, 1096: true, 1827: true, 2192: true, 2557: true, 2922: true, 3288: true, 3653: true}

// Parameters checks the settings and returns the shared stack's parameters.
func (p SharedParams) Parameters() ([]cfntypes.Parameter, error) {
	p = p.withDefaults()
	if err := p.validate(); err != nil {
		return nil, err
	}
	return []cfntypes.Parameter{
		param("App", p.App),
		param("VpcId", p.VPCID),
		param("SubnetIds", strings.Join(p.SubnetIDs, ",")),
		param("VpcCidr", p.VPCCIDR),
		param("SubnetACidr", p.SubnetCIDRs[0]),
		param("SubnetBCidr", p.SubnetCIDRs[1]),
		param("CertificateArn", p.CertificateARN),
		param("Domain", p.Domain),
		param("HostedZoneId", p.HostedZoneID),
		param("DomainRecord", strconv.FormatBool(!p.NoApexRecord)),
		param("PreviewDomain", p.PreviewDomain),
		param("PreviewHostedZoneId", p.PreviewHostedZoneID),
		param("PreviewCertificateArn", p.PreviewCertificateARN),
		param("PreviewPortFirst", itoa(p.PreviewPortFirst)),
		param("PreviewPortLast", itoa(p.PreviewPortLast)),
		param("LogRetentionDays", itoa(p.LogRetentionDays)),
		param("ContainerInsights", p.ContainerInsights),
		param("AccessLogsBucket", p.AccessLogsBucket),
		param("LogsKmsKeyArn", p.LogsKMSKeyARN),
		param("UntaggedImageDays", itoa(p.UntaggedImageDays)),
		param("ReleaseImagesKept", itoa(p.ReleaseImagesKept)),
		param("PreviewImageDays", itoa(p.PreviewImageDays)),
		param("Database", strconv.FormatBool(p.Database)),
		param("DatabaseMaxCapacity", strconv.FormatFloat(p.maxACU(), 'f', -1, 64)),
	}, nil
}

func (p SharedParams) withDefaults() SharedParams {
	if p.VPCCIDR == "" {
		p.VPCCIDR = DefaultVPCCIDR
	}
	if p.SubnetCIDRs[0] == "" {
		p.SubnetCIDRs[0] = DefaultSubnetACIDR
	}
	if p.SubnetCIDRs[1] == "" {
		p.SubnetCIDRs[1] = DefaultSubnetBCIDR
	}
	if p.PreviewPortFirst == 0 && p.PreviewPortLast == 0 {
		p.PreviewPortFirst, p.PreviewPortLast = DefaultPreviewPortFirst, DefaultPreviewPortLast
	}
	if p.LogRetentionDays == 0 {
		p.LogRetentionDays = DefaultLogRetentionDays
	}
	if p.ContainerInsights == "" {
		p.ContainerInsights = "disabled"
	}
	if p.UntaggedImageDays == 0 {
		p.UntaggedImageDays = DefaultUntaggedImageDays
	}
	if p.ReleaseImagesKept == 0 {
		p.ReleaseImagesKept = DefaultReleaseImagesKept
	}
	if p.PreviewImageDays == 0 {
		p.PreviewImageDays = DefaultPreviewImageDays
	}
	if p.Database && p.MaxACU == 0 {
		p.MaxACU = DefaultMaxACU
	}
	return p.previewDefaults()
}

// maxACU is the capacity passed to the template, which takes one even
// without a database.
func (p SharedParams) maxACU() float64 {
	if p.MaxACU == 0 {
		return DefaultMaxACU
	}
	return p.MaxACU
}

func (p SharedParams) validate() error {
	if err := naming.ValidateApp(p.App); err != nil {
		return errf("%w", err)
	}
	if err := p.validateNetwork(); err != nil {
		return err
	}
	if p.CertificateARN != "" && !certARNRe.MatchString(p.CertificateARN) {
		return errf("certificate %q is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)", p.CertificateARN)
	}
	if (p.Domain == "") != (p.HostedZoneID == "") {
		return errf("domain %q and hosted zone %q: set both (production at <domain>, previews at pr-<N>.<domain>) or neither (production at the ALB's name, previews on ports)", p.Domain, p.HostedZoneID)
	}
	if p.Domain != "" && !domainRe.MatchString(p.Domain) {
		return errf("domain %q is not a lower-case DNS name such as preview.example.com", p.Domain)
	}
	if p.HostedZoneID != "" && !zoneIDRe.MatchString(p.HostedZoneID) {
		return errf("hosted zone %q is not a Route 53 zone ID such as Z0123456789ABCDEFGHIJ (without /hostedzone/)", p.HostedZoneID)
	}
	if err := p.validatePreviewDomain(); err != nil {
		return err
	}
	if err := p.validateScannerSettings(); err != nil {
		return err
	}
	first, last := p.PreviewPortFirst, p.PreviewPortLast
	if first < 1024 || last > 65535 || first > last {
		return errf("preview ports %d-%d: want a range within 1024-65535", first, last)
	}
	if n := last - first + 1; n > MaxListenersPerALB-2 {
		return errf("preview ports %d-%d: %d ports, but an ALB takes at most %d listeners and HTTP and HTTPS need two", first, last, n, MaxListenersPerALB)
	}
	if !logRetentions[p.LogRetentionDays] {
		return errf("log retention %d days: CloudWatch Logs accepts 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365 ... days", p.LogRetentionDays)
	}
	if p.UntaggedImageDays < 1 {
		return errf("untagged image expiry %d days: want at least 1", p.UntaggedImageDays)
	}
	if p.ReleaseImagesKept < 10 {
		return errf("release images kept %d: want at least 10 (a rollback needs its release's image)", p.ReleaseImagesKept)
	}
	if p.PreviewImageDays < 1 {
		return errf("preview image expiry %d days: want at least 1", p.PreviewImageDays)
	}
	return p.validateDatabase()
}

func (p SharedParams) validateNetwork() error {
	if p.VPCID == "" && len(p.SubnetIDs) == 0 {
		var nets [3]netip.Prefix
		for i, c := range []string{p.VPCCIDR, p.SubnetCIDRs[0], p.SubnetCIDRs[1]} {
			n, err := netip.ParsePrefix(c)
			if err != nil || !n.Addr().Is4() || n != n.Masked() {
				return errf("CIDR %q: want an IPv4 network such as 10.42.0.0/16", c)
			}
			nets[i] = n
		}
		vpc, a, b := nets[0], nets[1], nets[2]
		if !vpc.Contains(a.Addr()) || !vpc.Contains(b.Addr()) || a.Bits() < vpc.Bits() || b.Bits() < vpc.Bits() || a.Overlaps(b) {
			return errf("subnets %s and %s: want two networks inside the VPC's %s that do not overlap", a, b, vpc)
		}
		return nil
	}
	if !vpcIDRe.MatchString(p.VPCID) {
		return errf("VPC %q: give an existing VPC ID (vpc-...) together with its subnets, or neither", p.VPCID)
	}
	if len(p.SubnetIDs) < 2 {
		return errf("VPC %s: give at least two public subnets in two availability zones (an ALB needs two)", p.VPCID)
	}
	for _, s := range p.SubnetIDs {
		if !subnetIDRe.MatchString(s) {
			return errf("subnet %q is not a subnet ID (subnet-...)", s)
		}
	}
	return nil
}

// SharedOutputs is what a deploy stack needs from the shared stack.
type SharedOutputs struct {
	RepositoryURI, RepositoryName string // releases push here
	// Previews push here: the preview role may push nowhere else.
	PreviewRepositoryURI, PreviewRepositoryName string
	ClusterName, ClusterARN                     string
	VPCID                                       string
	SubnetIDs                                   []string
	ExecutionRoleARN                            string // production tasks
	PreviewExecutionRoleARN                     string // preview tasks: reads only <app>/pr-* secrets
	AppTasksSGID                                string // every task carries it; the database admits it
	LogGroupName                                string
	LoadBalancerARN                             string
	LoadBalancerDNSName                         string
	LoadBalancerSGID                            string
	ListenerARN                                 string // releases' test rules and the production rule
	HTTPListenerARN                             string
	Scheme                                      string // http or https
	Domain                                      string // production's; empty: the ALB's DNS name
	PreviewPortFirst                            int    // zero when Previews.Domain is set
	PreviewPortLast                             int
	Database                                    *DatabaseOutputs // nil: the app has no database
	// Previews is the previews' own ALB, where preview stacks put their
	// rules and listeners (ForRole).
	Previews PreviewALB
}

// ParseSharedOutputs reads the shared stack's outputs and says which are
// missing (a shared stack from an older template: run shared:deploy).
func ParseSharedOutputs(outs []cfntypes.Output) (SharedOutputs, error) {
	m := map[string]string{}
	for _, o := range outs {
		m[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	var missing []string
	get := func(k string) string {
		v, ok := m[k]
		if !ok || v == "" {
			missing = append(missing, k)
		}
		return v
	}
	s := SharedOutputs{
		RepositoryURI: get(OutputRepositoryURI), RepositoryName: get(OutputRepositoryName),
		PreviewRepositoryURI: get(OutputPreviewRepositoryURI), PreviewRepositoryName: get(OutputPreviewRepositoryName),
		ClusterName: get(OutputClusterName), ClusterARN: get(OutputClusterARN),
		VPCID: get(OutputVPCID), SubnetIDs: splitList(get(OutputSubnetIDs)),
		ExecutionRoleARN: get(OutputExecutionRoleARN), PreviewExecutionRoleARN: get(OutputPreviewExecutionRole),
		AppTasksSGID: get(OutputAppTasksSGID), LogGroupName: get(OutputLogGroupName),
		LoadBalancerARN: get(OutputLoadBalancerARN), LoadBalancerDNSName: get(OutputLoadBalancerDNSName),
		LoadBalancerSGID: get(OutputLoadBalancerSGID), ListenerARN: get(OutputALBListenerARN),
		HTTPListenerARN: get(OutputHTTPListenerARN), Scheme: get(OutputScheme),
		Domain: m[OutputDomain],
		Previews: PreviewALB{LoadBalancerARN: get(OutputPreviewLoadBalancerARN), LoadBalancerDNSName: get(OutputPreviewLoadBalancerDNS),
			LoadBalancerSGID: get(OutputPreviewLoadBalancerSGID), ListenerARN: get(OutputPreviewListenerARN),
			Scheme: get(OutputPreviewScheme), Domain: m[OutputPreviewDomain]},
	}
	if len(missing) > 0 {
		return SharedOutputs{}, fmt.Errorf("read shared stack outputs: missing %s (update the shared stack: go run mage.go shared:deploy)", strings.Join(missing, ", "))
	}
	db, err := parseDatabaseOutputs(m)
	if err != nil {
		return SharedOutputs{}, err
	}
	s.Database = db
	if s.Previews.Domain == "" {
		var err1, err2 error
		s.PreviewPortFirst, err1 = strconv.Atoi(m[OutputPreviewPortFirst])
		s.PreviewPortLast, err2 = strconv.Atoi(m[OutputPreviewPortLast])
		if err1 != nil || err2 != nil {
			return SharedOutputs{}, fmt.Errorf("read shared stack outputs: no preview domain and no preview port range (%q-%q) (update the shared stack: go run mage.go shared:deploy)", m[OutputPreviewPortFirst], m[OutputPreviewPortLast])
		}
	}
	return s, nil
}

// splitList reads a comma-separated list; it also accepts the Python list
// text moto returns for list values ("['subnet-a', 'subnet-b']").
func splitList(v string) []string {
	v = strings.Trim(strings.TrimSpace(v), "[]")
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.Trim(strings.TrimSpace(f), `'"`); f != "" {
			out = append(out, f)
		}
	}
	return out
}
