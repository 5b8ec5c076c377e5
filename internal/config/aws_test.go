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
		{"a preview domain of its own: previews under it, production on its domain",
			map[string]string{"SLIPWAY_DOMAIN": "example.com", "SLIPWAY_AWS_HOSTED_ZONE_ID": "Z123", "SLIPWAY_AWS_CERTIFICATE_ARN": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
				"SLIPWAY_PREVIEW_DOMAIN": "Example-Preview.com.", "SLIPWAY_AWS_PREVIEW_HOSTED_ZONE_ID": "Z456"},
			"", "host names: http://pr-<N>.example-preview.com, production https://example.com"},
		{"a preview domain without a production domain", map[string]string{"SLIPWAY_PREVIEW_DOMAIN": "example-preview.com", "SLIPWAY_AWS_PREVIEW_HOSTED_ZONE_ID": "Z456",
			"SLIPWAY_AWS_PREVIEW_CERTIFICATE_ARN": "arn:aws:acm:us-east-1:123456789012:certificate/def"}, "", "host names: https://pr-<N>.example-preview.com; production on the shared ALB's port 80"},
		{"a preview domain without its zone is refused", map[string]string{"SLIPWAY_PREVIEW_DOMAIN": "example-preview.com"}, "set both SLIPWAY_PREVIEW_DOMAIN and SLIPWAY_AWS_PREVIEW_HOSTED_ZONE_ID", ""},
		{"a preview certificate without a preview domain is refused", map[string]string{"SLIPWAY_AWS_PREVIEW_CERTIFICATE_ARN": "arn:aws:acm:us-east-1:123456789012:certificate/def"}, "is set without SLIPWAY_PREVIEW_DOMAIN", ""},
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

// `config` on the aws target prints the URLs that target gives (ALB ports,
// or host names under the domain, https only with a certificate), never
// the local router's, and the health bound in force with why it is not
// the one set.
func TestPrintOnAWSShowsItsURLsAndTheHealthBoundInForce(t *testing.T) {
	for _, tc := range []struct {
		name             string
		env              map[string]string
		production, pr42 string
		health           string
	}{
		{"ALB ports", map[string]string{"SLIPWAY_AWS_PREVIEW_PORTS": "9001-9010"},
			"http://<shared ALB DNS name>", "http://<shared ALB DNS name>:<a port of 9001-9010, given at deploy>",
			"5m0s (raised from 1m0s: the aws target gives a Fargate task at least 5m0s to pull its image, start and pass its health checks)"},
		{"hosted zone, no certificate", map[string]string{"SLIPWAY_DOMAIN": "example.com", "SLIPWAY_AWS_HOSTED_ZONE_ID": "Z123", "SLIPWAY_HEALTH_TIMEOUT": "10m"},
			"http://example.com", "http://pr-42.example.com", "10m0s"},
		{"hosted zone and certificate", map[string]string{"SLIPWAY_DOMAIN": "example.com", "SLIPWAY_AWS_HOSTED_ZONE_ID": "Z123",
			"SLIPWAY_AWS_CERTIFICATE_ARN": "arn:aws:acm:us-east-1:123456789012:certificate/abc"},
			"https://example.com", "https://pr-42.example.com", "5m0s (raised from 1m0s"},
		{"a preview domain of its own with its certificate", map[string]string{"SLIPWAY_DOMAIN": "example.com", "SLIPWAY_AWS_HOSTED_ZONE_ID": "Z123",
			"SLIPWAY_PREVIEW_DOMAIN": "example-preview.com", "SLIPWAY_AWS_PREVIEW_HOSTED_ZONE_ID": "Z456",
			"SLIPWAY_AWS_PREVIEW_CERTIFICATE_ARN": "arn:aws:acm:us-east-1:123456789012:certificate/def"},
			"http://example.com", "https://pr-42.example-preview.com", "5m0s (raised from 1m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"HOME": t.TempDir(), "SLIPWAY_APP": "shop", "SLIPWAY_TARGET": "aws"}
			for k, v := range tc.env {
				env[k] = v
			}
			c, err := LoadFrom(func(k string) string { return env[k] }, "")
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := Print(&b, c); err != nil {
				t.Fatal(err)
			}
			rows := map[string]string{}
			for _, l := range strings.Split(b.String(), "\n") {
				if name, rest, ok := strings.Cut(l, "  "); ok {
					f := strings.SplitN(strings.TrimSpace(rest), "  ", 2)
					if len(f) == 2 {
						rows[strings.TrimSpace(name)] = strings.TrimSpace(f[1])
					}
				}
			}
			if got := rows["production URL"]; got != tc.production {
				t.Errorf("production URL %q, want %q", got, tc.production)
			}
			if got := rows["preview URL of PR 42"]; got != tc.pr42 {
				t.Errorf("preview URL of PR 42 %q, want %q", got, tc.pr42)
			}
			if got := rows["SLIPWAY_HEALTH_TIMEOUT"]; !strings.HasPrefix(got, tc.health) {
				t.Errorf("SLIPWAY_HEALTH_TIMEOUT %q, want %q", got, tc.health)
			}
			for _, l := range strings.Split(b.String(), "\n") {
				if strings.Contains(l, "://") && (strings.Contains(l, "localhost") || strings.Contains(l, "shop.example.com")) {
					t.Errorf("config on aws prints a URL the aws target never serves: %s", l)
				}
			}
		})
	}
}
