package config

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/slipway/slipway/internal/manifest"
)

// Redacted replaces a secret's value in output.
func Redacted(v string) string {
	if v == "" {
		return "(unset)"
	}
	return "****** (set)"
}

// row is one line of `config`: a setting, where its value came from, and
// the value.
type row struct{ name, source, value string }

// Print writes every effective setting with where it came from (a
// variable, a line of slipway.yaml, or the default), one per line, secrets
// redacted: a secret of the manifest shows its reference, never a value.
func Print(w io.Writer, c Config) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	rows := append(c.envRows(), c.manifestRows()...)
	rows = append(rows, awsRows(c)...)
	for _, r := range rows {
		if _, err := fmt.Fprintf(tw, "%s\t%s\t%s\n", r.name, r.source, r.value); err != nil {
			return fmt.Errorf("print config: %w", err)
		}
	}
	return tw.Flush()
}

// set is the row of a setting with its recorded source; a variable that
// sets its own row is just "environment".
func (c Config) set(name, value string) row {
	s := c.Source(name)
	if s.Env == name {
		return row{name, "environment", value}
	}
	return row{name, s.String(), value}
}

func (c Config) envRows() []row {
	found := row{"manifest", "default", "(none: no slipway.yaml from the working directory up to its repository's root; Slipway's sample app)"}
	if c.Manifest != nil && c.Manifest.Found() {
		found = row{"manifest", "found", filepath.Join(c.Manifest.Dir, manifest.FileName)}
	}
	target := c.Target
	if _, hint, ok := strings.Cut(c.TargetDetected, "; "); ok {
		target += "  (" + hint + ")"
	} else if c.TargetDetected != "" {
		target += "  (" + c.TargetDetected + ")"
	}
	prod, preview := c.urls()
	return []row{
		found,
		c.set("SLIPWAY_APP", c.App),
		c.set("SLIPWAY_TARGET", target),
		c.set("SLIPWAY_DOMAIN", c.Domain),
		c.set("SLIPWAY_ROUTER_PORT", strconv.Itoa(c.RouterPort)),
		c.set("SLIPWAY_ROUTER_ADMIN_PORT", strconv.Itoa(c.AdminPort)),
		c.set("SLIPWAY_ROUTER_STACK_PORTS", c.StackPorts.String()),
		c.set("SLIPWAY_APP_IMAGE", c.AppImage),
		c.set("SLIPWAY_ROUTER_IMAGE", c.RouterImage),
		c.set("SLIPWAY_REGISTRY", orUnset(c.Registry)),
		c.set("SLIPWAY_REGISTRY_USER", orUnset(c.RegistryUser)),
		c.set("SLIPWAY_REGISTRY_PASSWORD", Redacted(c.RegistryPass)),
		c.set("SLIPWAY_RETENTION", c.Retention.String()),
		c.set("SLIPWAY_KEEP_RELEASES", strconv.Itoa(c.KeepReleases)),
		c.set("SLIPWAY_HEALTH_TIMEOUT", c.healthTimeout()),
		c.set("SLIPWAY_DRAIN_TIMEOUT", c.DrainTimeout.String()),
		c.set("AWS_REGION", orUnset(c.AWSRegion)),
		c.set("SLIPWAY_AWS_ENDPOINT", orUnset(c.AWSEndpoint)),
		c.set("GH_TOKEN / GITHUB_TOKEN", Redacted(c.GitHubToken)),
		c.set("SLIPWAY_DATABASE", onOff(c.database)),
		{"production URL", "derived", prod},
		{"preview URL of PR 42", "derived", preview},
	}
}

// urls are the production URL and PR 42's preview URL on the configured
// target.
func (c Config) urls() (production, preview string) {
	if c.Target == TargetAWS {
		return c.awsURLs("pr-42")
	}
	return c.URL(c.ProductionHost()), c.URL(c.PreviewHost("pr-42"))
}

// healthTimeout is the health bound in force, and why when that is not
// the value set.
func (c Config) healthTimeout() string {
	d, why := c.HealthTimeoutInForce()
	if why == "" {
		return d.String()
	}
	return fmt.Sprintf("%s (%s)", d, why)
}

func orUnset(v string) string {
	if v == "" {
		return "(unset)"
	}
	return v
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
