package config

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// Redacted replaces a secret's value in output.
func Redacted(v string) string {
	if v == "" {
		return "(unset)"
	}
	return "****** (set)"
}

// Print writes the effective settings, secrets redacted, one per line.
func Print(w io.Writer, c Config) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	rows := [][2]string{
		{"SLIPWAY_APP", c.App},
		{"SLIPWAY_TARGET", c.Target + "  (" + c.TargetDetected + ")"},
		{"SLIPWAY_DOMAIN", c.Domain},
		{"SLIPWAY_ROUTER_PORT", strconv.Itoa(c.RouterPort)},
		{"SLIPWAY_ROUTER_ADMIN_PORT", strconv.Itoa(c.AdminPort)},
		{"SLIPWAY_APP_IMAGE", c.AppImage},
		{"SLIPWAY_ROUTER_IMAGE", c.RouterImage},
		{"SLIPWAY_REGISTRY", orUnset(c.Registry)},
		{"SLIPWAY_REGISTRY_USER", orUnset(c.RegistryUser)},
		{"SLIPWAY_REGISTRY_PASSWORD", Redacted(c.RegistryPass)},
		{"SLIPWAY_RETENTION", c.Retention.String()},
		{"SLIPWAY_KEEP_RELEASES", strconv.Itoa(c.KeepReleases)},
		{"SLIPWAY_HEALTH_TIMEOUT", c.HealthTimeout.String()},
		{"SLIPWAY_DRAIN_TIMEOUT", c.DrainTimeout.String()},
		{"AWS_REGION", orUnset(c.AWSRegion)},
		{"SLIPWAY_AWS_ENDPOINT", orUnset(c.AWSEndpoint)},
		{"GH_TOKEN / GITHUB_TOKEN", Redacted(c.GitHubToken)},
		{"production URL", c.URL(c.ProductionHost())},
		{"preview URL of PR 42", c.URL(c.PreviewHost("pr-42"))},
	}
	rows = append(rows, awsRows(c)...)
	for _, r := range rows {
		if _, err := fmt.Fprintf(tw, "%s\t%s\n", r[0], r[1]); err != nil {
			return fmt.Errorf("print config: %w", err)
		}
	}
	return tw.Flush()
}

func orUnset(v string) string {
	if v == "" {
		return "(unset)"
	}
	return v
}
