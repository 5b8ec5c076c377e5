package router

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Table is the routing table: the contract between the router and the local
// provider that writes it (PUT /table). Its JSON names are stable.
type Table struct {
	// Targets are the backends the router may send traffic to.
	Targets []Target `json:"targets"`
	// Hosts route one host name (a preview environment) to one target.
	Hosts []HostRule `json:"hosts,omitempty"`
	// ProductionHosts are the hosts production answers on (port stripped,
	// any case). A host that is neither here nor in Hosts answers 404 "no
	// environment matches this host", like the ALB's default action.
	ProductionHosts []string `json:"production_hosts,omitempty"`
	// Ports route every request that arrives on a stack port to one stack,
	// whatever its Host and headers: the URL of a stack that any client on
	// the machine reaches (http://127.0.0.1:<port>). The router serves the
	// ports it was started with (-stack-ports); a rule for another port
	// is kept but reaches nothing.
	Ports []PortRule `json:"ports,omitempty"`
	// Production is the weighted rule for the production hosts.
	// Empty means no production stack is live: those hosts get 503.
	Production []Weighted `json:"production,omitempty"`
	// Health is the default health check of every target; zero fields
	// take the defaults.
	Health HealthCheck `json:"health,omitzero"`
	// DrainTimeout bounds how long a removed target may finish its in-flight
	// requests before they are cut (default 10s).
	DrainTimeout Duration `json:"drain_timeout,omitempty"`
	// IdleTimeout is how long a target connection may stay silent in both
	// directions before the request gets 504 (default 60s, like the ALB's
	// idle timeout; 100ms to 4000s).
	IdleTimeout Duration `json:"idle_timeout,omitempty"`
	// LastLive is kept by the router, per stack (a target's Stack, else its
	// name): when the stack last had a positive production weight, as of
	// the accepted table write that made or kept it so. The router keeps
	// the times: those a writer sends are ignored. A stack without targets
	// (scaled to zero) keeps its record only while the writer sends its key
	// back, as a writer that changes the table it read does; a write
	// without the key drops it (the stack was deleted).
	LastLive map[string]time.Time `json:"last_live,omitempty"`
}

// Target is one backend: a name unique in the table and its base URL.
type Target struct {
	Name string `json:"name"`
	// URL is http://host:port; a path is not allowed.
	URL string `json:"url"`
	// Health overrides fields of the table's health check for this target.
	Health *HealthCheck `json:"health,omitempty"`
	// Stack, when set, names the stack this target runs a version of, so
	// X-Slipway-Stack may name the stack instead of the target. When several
	// targets share a stack, the one a rule routes to wins, else the last in
	// table order (the newest).
	Stack string `json:"stack,omitempty"`
}

// HostRule sends requests whose Host equals Host (port stripped, any case)
// to Target.
type HostRule struct {
	Host   string `json:"host"`
	Target string `json:"target"`
}

// PortRule sends every request on Port to Stack: a target's Stack (else
// its name), reached as X-Slipway-Stack reaches it (the target a rule
// routes to, else the newest). A stack has one port. A rule whose stack
// has no target keeps the port for it: its requests get 503 until a
// target of the stack is added.
type PortRule struct {
	Port  int    `json:"port"`
	Stack string `json:"stack"`
}

// Weighted is one entry of the production rule. Weights are integers
// from 0 to 999 like ALB weighted target groups.
type Weighted struct {
	Target string `json:"target"`
	Weight int    `json:"weight"`
}

// HealthCheck says how a target is checked. Zero fields take the table's
// value, then the default (GET /healthz every 1s, timeout 1s, 2 successes to
// become healthy, 2 failures to become unhealthy, no grace).
type HealthCheck struct {
	Path               string   `json:"path,omitempty"`
	Interval           Duration `json:"interval,omitempty"`
	Timeout            Duration `json:"timeout,omitempty"`
	HealthyThreshold   int      `json:"healthy_threshold,omitempty"`
	UnhealthyThreshold int      `json:"unhealthy_threshold,omitempty"`
	// Grace is how long after the router first checks a target its failed
	// checks do not count (ECS's health check grace period): a target
	// that passed early and fails while it warms up keeps its traffic.
	Grace Duration `json:"grace,omitempty"`
}

// Duration is a Go duration string such as "1s" or "250ms". It stays a
// plain string in the table so that a bad value is reported with all the
// other problems instead of failing the JSON decoding.
type Duration = string

// DurationOf formats d for a table.
func DurationOf(d time.Duration) Duration { return d.String() }

// Defaults used when the table leaves a value out.
const (
	DefaultHealthPath         = "/healthz"
	DefaultHealthInterval     = time.Second
	DefaultHealthTimeout      = time.Second
	DefaultHealthyThreshold   = 2
	DefaultUnhealthyThreshold = 2
	DefaultDrainTimeout       = 10 * time.Second
	DefaultIdleTimeout        = 60 * time.Second
	maxWeight                 = 999
	maxThreshold              = 100
	maxNameLen                = 128
)

// Bounds on what a table may ask for: a table is a request from a process
// on the host, and must not be able to stall the router or flood the app.
// ALB stops at 100 rules per listener and 5 weighted target groups per
// forward action.
const (
	MaxTargets         = 250
	MaxHostRules       = 100
	MaxProductionHosts = 10
	MaxWeighted        = 5
	MaxPorts           = MaxTargets
	minHealthInterval  = 100 * time.Millisecond
	maxHealthInterval  = 5 * time.Minute
	minHealthTimeout   = 10 * time.Millisecond
	maxHealthTimeout   = time.Minute
	maxHealthGrace     = 24 * time.Hour
	maxDrainTimeout    = time.Hour
	minIdleTimeout     = 100 * time.Millisecond
	maxIdleTimeout     = 4000 * time.Second
)

// healthConfig is a resolved health check.
type healthConfig struct {
	path               string
	interval, timeout  time.Duration
	healthy, unhealthy int
	grace              time.Duration
}

// problems collects validation failures; each says what to fix.
type problems []string

func (p *problems) addf(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

// parseDuration resolves d (empty means def) and records a problem when it is
// not a duration from lo to hi.
func (p *problems) parseDuration(where string, d Duration, def, lo, hi time.Duration) time.Duration {
	if d == "" {
		return def
	}
	v, err := time.ParseDuration(string(d))
	if err != nil || v <= 0 {
		p.addf("%s: %q is not a positive duration: use a Go duration such as \"1s\" or \"500ms\"", where, d)
		return def
	}
	if v < lo || v > hi {
		p.addf("%s: %s is out of range: use %s to %s", where, v, lo, hi)
		return def
	}
	return v
}

// resolveHealth layers hc over base and checks the result.
func (p *problems) resolveHealth(where string, base healthConfig, hc *HealthCheck) healthConfig {
	if hc == nil {
		return base
	}
	out := base
	if hc.Path != "" {
		if !strings.HasPrefix(hc.Path, "/") || strings.ContainsAny(hc.Path, " \r\n") {
			p.addf("%s.path: %q must start with / and contain no spaces", where, hc.Path)
		}
		out.path = hc.Path
	}
	out.interval = p.parseDuration(where+".interval", hc.Interval, base.interval, minHealthInterval, maxHealthInterval)
	out.timeout = p.parseDuration(where+".timeout", hc.Timeout, base.timeout, minHealthTimeout, maxHealthTimeout)
	out.healthy = p.threshold(where+".healthy_threshold", hc.HealthyThreshold, base.healthy)
	out.unhealthy = p.threshold(where+".unhealthy_threshold", hc.UnhealthyThreshold, base.unhealthy)
	out.grace = p.grace(where+".grace", hc.Grace, base.grace)
	return out
}

// grace resolves a grace period: like parseDuration, but 0 is allowed.
func (p *problems) grace(where string, d Duration, def time.Duration) time.Duration {
	if d == "" {
		return def
	}
	v, err := time.ParseDuration(string(d))
	if err != nil || v < 0 || v > maxHealthGrace {
		p.addf("%s: %q is not a duration from 0s to %s: use a Go duration such as \"30s\"", where, d, maxHealthGrace)
		return def
	}
	return v
}

func (p *problems) threshold(where string, v, def int) int {
	if v == 0 {
		return def
	}
	if v < 1 || v > maxThreshold {
		p.addf("%s: %d is out of range: use 1 to %d", where, v, maxThreshold)
		return def
	}
	return v
}

// validName reports whether s can name a target: it shows up in headers,
// metric labels and logs, so only [A-Za-z0-9._-] is allowed.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// checkTargetURL returns the host:port to dial for raw, or records a problem.
func (p *problems) checkTargetURL(where, raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		p.addf("%s.url: %q does not parse (%v): use http://host:port", where, raw, err)
		return ""
	case u.Scheme != "http":
		p.addf("%s.url: %q must use http:// (the router speaks plain HTTP/1.1 to targets)", where, raw)
		return ""
	case u.Hostname() == "":
		p.addf("%s.url: %q has no host: use http://host:port", where, raw)
		return ""
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "":
		p.addf("%s.url: %q may only have scheme, host and port: drop the path, query or user", where, raw)
		return ""
	}
	if u.Port() == "" {
		return u.Host + ":80"
	}
	return u.Host
}
