package infra

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// With a certificate, a domain and its hosted zone, the shared stack serves
// HTTPS, redirects HTTP, points the apex at the production ALB and
// *.<domain> (the previews, by default under the same domain) at the
// previews ALB.
func TestSharedStackWithDomainOnMoto(t *testing.T) {
	cfn, elb, _ := motoClients(t)
	ctx := context.Background()
	cfg := cfn.Options()
	r53 := route53.New(route53.Options{Region: cfg.Region, Credentials: cfg.Credentials, BaseEndpoint: cfg.BaseEndpoint, HTTPClient: cfg.HTTPClient})
	certs := acm.New(acm.Options{Region: cfg.Region, Credentials: cfg.Credentials, BaseEndpoint: cfg.BaseEndpoint, HTTPClient: cfg.HTTPClient})
	zone, err := r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("preview.example.com"), CallerReference: aws.String(t.Name())})
	if err != nil {
		t.Fatal(err)
	}
	zoneID := strings.TrimPrefix(aws.ToString(zone.HostedZone.Id), "/hostedzone/")
	cert, err := certs.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("*.preview.example.com")})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := SharedParams{App: "demo", CertificateARN: aws.ToString(cert.CertificateArn), Domain: "preview.example.com", HostedZoneID: zoneID}.Parameters()
	if err != nil {
		t.Fatalf("a moto zone ID or certificate ARN is refused: %v", err)
	}
	st, err := createStack(t, cfn, "demo-shared", SharedTemplate(), sp, nil)
	if err != nil {
		t.Fatal(err)
	}
	so, err := ParseSharedOutputs(st.Outputs)
	if err != nil {
		t.Fatal(err)
	}
	if so.Scheme != "https" || so.Domain != "preview.example.com" || so.PreviewPortFirst != 0 || so.ListenerARN == so.HTTPListenerARN {
		t.Errorf("outputs %+v: want https, the domain, no port range, rules on the HTTPS listener", so)
	}

	if p := so.Previews; p.Scheme != "https" || p.Domain != "preview.example.com" || p.ListenerARN == so.ListenerARN {
		t.Errorf("previews ALB %+v: want https, the domain, rules on its own HTTPS listener", p)
	}
	for _, lb := range []string{so.LoadBalancerARN, so.Previews.LoadBalancerARN} {
		ls, err := elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lb)})
		if err != nil {
			t.Fatal(err)
		}
		defaults := map[int32]string{}
		for _, l := range ls.Listeners {
			a := l.DefaultActions[0]
			defaults[aws.ToInt32(l.Port)] = string(a.Type)
			if a.RedirectConfig != nil {
				defaults[aws.ToInt32(l.Port)] += " " + aws.ToString(a.RedirectConfig.Protocol) + ":" + aws.ToString(a.RedirectConfig.Port)
			}
			if a.FixedResponseConfig != nil {
				defaults[aws.ToInt32(l.Port)] += " " + aws.ToString(a.FixedResponseConfig.StatusCode)
			}
		}
		if defaults[80] != "redirect HTTPS:443" || defaults[443] != "fixed-response 404" || len(defaults) != 2 {
			t.Errorf("listeners of %s %v: want 80 redirecting to HTTPS and 443 answering 404", lb, defaults)
		}
	}

	rrs, err := r53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)})
	if err != nil {
		t.Fatal(err)
	}
	var aliases []string
	for _, r := range rrs.ResourceRecordSets {
		if r.AliasTarget != nil {
			aliases = append(aliases, strings.TrimSuffix(aws.ToString(r.Name), ".")+" "+string(r.Type)+" -> "+aws.ToString(r.AliasTarget.DNSName))
		}
	}
	sort.Strings(aliases)
	want := []string{"*.preview.example.com A -> " + so.Previews.LoadBalancerDNSName, "preview.example.com A -> " + so.LoadBalancerDNSName}
	if strings.Join(aliases, "\n") != strings.Join(want, "\n") {
		t.Errorf("alias records:\n%s\nwant:\n%s", strings.Join(aliases, "\n"), strings.Join(want, "\n"))
	}
}

// A zone that already has an A record for the domain (the site being moved
// to Slipway): real Route 53 refuses a second one, and CloudFormation fails
// the ApexRecord resource with "Tried to create resource record set
// [name='example.com.', type='A'] but it already exists" (Route 53 API
// Reference, ChangeResourceRecordSets: CREATE "returns an error if a
// resource record set already exists with the same name and type"); moto
// adds a second record instead. With NoApexRecord the shared stack leaves
// that record as it is and still points *.<domain> at the previews ALB.
func TestSharedStackKeepsAnExistingDomainRecordOnMoto(t *testing.T) {
	cfn, _, _ := motoClients(t)
	ctx := context.Background()
	cfg := cfn.Options()
	r53 := route53.New(route53.Options{Region: cfg.Region, Credentials: cfg.Credentials, BaseEndpoint: cfg.BaseEndpoint, HTTPClient: cfg.HTTPClient})
	zone, err := r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String(t.Name())})
	if err != nil {
		t.Fatal(err)
	}
	zoneID := strings.TrimPrefix(aws.ToString(zone.HostedZone.Id), "/hostedzone/")
	_, err = r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zoneID), ChangeBatch: &r53types.ChangeBatch{
		Changes: []r53types.Change{{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String("example.com"), Type: r53types.RRTypeA, TTL: aws.Int64(300), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("192.0.2.10")}}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := SharedParams{App: "demo", Domain: "example.com", HostedZoneID: zoneID, NoApexRecord: true}.Parameters()
	if err != nil {
		t.Fatal(err)
	}
	st, err := createStack(t, cfn, "demo-shared", SharedTemplate(), sp, nil)
	if err != nil {
		t.Fatal(err)
	}
	so, err := ParseSharedOutputs(st.Outputs)
	if err != nil {
		t.Fatal(err)
	}
	rrs, err := r53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rrs.ResourceRecordSets {
		if r.Type != r53types.RRTypeA {
			continue
		}
		to := ""
		if r.AliasTarget != nil {
			to = aws.ToString(r.AliasTarget.DNSName)
		}
		for _, v := range r.ResourceRecords {
			to += aws.ToString(v.Value)
		}
		got = append(got, strings.TrimSuffix(aws.ToString(r.Name), ".")+" -> "+to)
	}
	sort.Strings(got)
	want := []string{"*.example.com -> " + so.Previews.LoadBalancerDNSName, "example.com -> 192.0.2.10"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("A records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
