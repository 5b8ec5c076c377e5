package infra

// Previews run behind an ALB of their own, <app>-previews, with their own
// security group, listeners and (with a preview domain) alias record: a
// branch controls what a pull request's workflow runs with the preview
// role, and IAM cannot limit a listener rule's priority or conditions, so
// the preview role may create rules and listeners on that ALB only. No
// preview stack can put a rule in front of production's.

// PreviewALB is the previews' ALB as the shared stack's outputs give it.
type PreviewALB struct {
	LoadBalancerARN     string
	LoadBalancerDNSName string
	LoadBalancerSGID    string
	ListenerARN         string // the previews' host and test rules
	Scheme              string // http or https
	Domain              string // empty: previews get ports of this ALB
}

// PreviewLoadBalancerName is the previews ALB's name (IAM scopes the
// preview role's rules and listeners to it); at most 29 characters.
func PreviewLoadBalancerName(app string) string { return app + "-previews" }

// ForRole returns the outputs a deploy stack of role uses: a preview's
// load balancer, listener, security group, scheme and domain are the
// previews ALB's, and its repository the previews'; a release's are
// production's.
func (s SharedOutputs) ForRole(role string) SharedOutputs {
	if role != RolePreview {
		return s
	}
	s.RepositoryURI, s.RepositoryName = s.PreviewRepositoryURI, s.PreviewRepositoryName
	p := s.Previews
	s.LoadBalancerARN, s.LoadBalancerDNSName, s.LoadBalancerSGID = p.LoadBalancerARN, p.LoadBalancerDNSName, p.LoadBalancerSGID
	s.ListenerARN, s.HTTPListenerARN, s.Scheme, s.Domain = p.ListenerARN, "", p.Scheme, p.Domain
	return s
}

// PreviewHostMode reports whether previews get host names under a preview
// domain (else ports of the previews ALB).
func (p SharedParams) PreviewHostMode() bool {
	p = p.previewDefaults()
	return p.PreviewDomain != "" && p.PreviewHostedZoneID != ""
}

// previewDefaults gives previews production's domain, zone and
// certificate unless they have their own.
func (p SharedParams) previewDefaults() SharedParams {
	if p.PreviewDomain == "" && p.PreviewHostedZoneID == "" {
		p.PreviewDomain, p.PreviewHostedZoneID = p.Domain, p.HostedZoneID
	}
	if p.PreviewCertificateARN == "" {
		p.PreviewCertificateARN = p.CertificateARN
	}
	return p
}

func (p SharedParams) validatePreviewDomain() error {
	if (p.PreviewDomain == "") != (p.PreviewHostedZoneID == "") {
		return errf("preview domain %q and hosted zone %q: set both (previews get pr-<N>.<domain>) or neither (previews get ports of the previews ALB)", p.PreviewDomain, p.PreviewHostedZoneID)
	}
	if p.PreviewDomain != "" && !domainRe.MatchString(p.PreviewDomain) {
		return errf("preview domain %q is not a lower-case DNS name such as preview.example.com", p.PreviewDomain)
	}
	if p.PreviewHostedZoneID != "" && !zoneIDRe.MatchString(p.PreviewHostedZoneID) {
		return errf("preview hosted zone %q is not a Route 53 zone ID such as Z0123456789ABCDEFGHIJ", p.PreviewHostedZoneID)
	}
	if p.PreviewCertificateARN != "" && !certARNRe.MatchString(p.PreviewCertificateARN) {
		return errf("preview certificate %q is not an ACM certificate ARN", p.PreviewCertificateARN)
	}
	return nil
}
