package config

import (
	"strings"
	"testing"
)

func TestAWSSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		problem string // "" when valid
		scheme  string // part of URLScheme
	}{
		{"no hosted zone: previews on ALB ports", map[string]string{}, "", "ALB ports: http://<shared ALB DNS name>:<port 8001-8040>/"},
		{"hosted zone and domain: host names, https with a certificate",
			map[string]string{"SLIPWAY_DOMAIN": "preview.example.com", "SLIPWAY_AWS_HOSTED_ZONE_ID": "Z123", "SLIPWAY_AWS_CERTIFICATE_ARN": "arn:aws:acm:us-east-1:123456789012:certificate/abc"},
			"", "host names: https://pr-<N>.preview.example.com"},
		{"hosted zone without a domain is refused", map[string]string{"SLIPWAY_AWS_HOSTED_ZONE_ID": "Z123"}, "set SLIPWAY_DOMAIN to the zone's domain", ""},
		{"a VPC without subnets is refused", map[string]string{"SLIPWAY_AWS_VPC_ID": "vpc-0123456789abcdef0"}, "set both SLIPWAY_AWS_VPC_ID and SLIPWAY_AWS_SUBNET_IDS", ""},
		{"a backwards port range is refused", map[string]string{"SLIPWAY_AWS_PREVIEW_PORTS": "9000-8000"}, "SLIPWAY_AWS_PREVIEW_PORTS=\"9000-8000\" is not a port range", ""},
		{"a custom port range is used", map[string]string{"SLIPWAY_AWS_PREVIEW_PORTS": "9001-9010"}, "", "<port 9001-9010>"},
		{"a CPU size Fargate lacks is refused", map[string]string{"SLIPWAY_AWS_CPU": "100"}, "SLIPWAY_AWS_CPU=\"100\" is not a Fargate size", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(func(k string) string { return tc.env[k] })
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("Load: %v, want a problem containing %q", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.URLScheme(); !strings.Contains(got, tc.scheme) {
				t.Errorf("URLScheme() = %q, want it to contain %q", got, tc.scheme)
			}
		})
	}
}
