// Package config reads every Slipway setting from environment variables,
// then from the app's slipway.yaml (package manifest), then documented
// defaults, and validates them all at once so a user sees every problem,
// each with the variable to set or the line to fix. Every effective
// setting records where it came from (Config.Source).
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/slipway/slipway/internal/manifest"
	"github.com/slipway/slipway/internal/naming"
	"github.com/slipway/slipway/internal/router"
)

// Targets Slipway can deploy to.
const (
	TargetLocal = "local"
	TargetAWS   = "aws"
)

// Config is the effective configuration.
type Config struct {
	App            string           // SLIPWAY_APP
	Target         string           // SLIPWAY_TARGET: local or aws
	Domain         string           // SLIPWAY_DOMAIN: previews are pr-N.<app>.<domain>
	RouterPort     int              // SLIPWAY_ROUTER_PORT: local router, on 127.0.0.1
	AdminPort      int              // SLIPWAY_ROUTER_ADMIN_PORT: router admin API, on 127.0.0.1
	StackPorts     router.PortRange // SLIPWAY_ROUTER_STACK_PORTS: a URL per stack, on 127.0.0.1
	AppImage       string           // SLIPWAY_APP_IMAGE: image repository of the app
	RouterImage    string           // SLIPWAY_ROUTER_IMAGE: image repository of the local router
	Registry       string           // SLIPWAY_REGISTRY: where push sends images (host[:port]/path)
	RegistryUser   string           // SLIPWAY_REGISTRY_USER
	RegistryPass   string           // SLIPWAY_REGISTRY_PASSWORD (secret)
	Retention      time.Duration    // SLIPWAY_RETENTION: how long old production stacks are kept
	KeepReleases   int              // SLIPWAY_KEEP_RELEASES: previous releases always kept for rollback
	HealthTimeout  time.Duration    // SLIPWAY_HEALTH_TIMEOUT: bound on waiting for a stack to be healthy
	DrainTimeout   time.Duration    // SLIPWAY_DRAIN_TIMEOUT: in-flight requests get this long on removal
	AWSRegion      string           // AWS_REGION
	AWSEndpoint    string           // SLIPWAY_AWS_ENDPOINT: e.g. a moto server for tests
	GitHubToken    string           // GH_TOKEN or GITHUB_TOKEN (secret)
	TargetDetected string           // why Target has its value
	AWS            AWS              // the aws target's settings (aws.go)

	// Manifest is the app as its slipway.yaml describes it, with the
	// variables above applied (App, AWS.CPU and AWS.Memory as resources)
	// and the target's health check defaults filled in. Without a file it
	// is manifest.Default() and Found() is false: Slipway's sample app.
	Manifest *manifest.Manifest

	sources  map[string]Source // by setting (variable or manifest key); absent: default
	database bool              // SLIPWAY_DATABASE, or the file's database (LoadDatabase decides; printed here)
}

// Setting describes one variable, for `config` output and the README.
type Setting struct {
	Env, Default, Help string
	Secret             bool
}

// Settings lists every variable Slipway reads. Each overrides the
// manifest's key of the same meaning (app, resources, database); the
// manifest's other keys have no variable (package manifest).
var Settings = append([]Setting{
	{"SLIPWAY_APP", "slipway.yaml's app, else slipway", "application name; prefixes every stack, container and image", false},
	{"SLIPWAY_TARGET", "local", "where environments run: local (Docker on this machine) or aws; AWS credentials alone never select aws", false},
	{"SLIPWAY_DOMAIN", "localhost", "previews answer at pr-<N>.<app>.<domain>", false},
	{"SLIPWAY_ROUTER_PORT", "8080", "local router's traffic port on 127.0.0.1", false},
	{"SLIPWAY_ROUTER_ADMIN_PORT", "8081", "local router's admin API port on 127.0.0.1", false},
	{"SLIPWAY_ROUTER_STACK_PORTS", DefaultStackPorts, "local router's stack ports on 127.0.0.1: each stack gets one, its own URL (http://127.0.0.1:<port>) that any client reaches without DNS or a Host header", false},
	{"SLIPWAY_APP_IMAGE", "<app>/app", "image repository of the app", false},
	{"SLIPWAY_ROUTER_IMAGE", "slipway/router", "image repository of the local router", false},
	{"SLIPWAY_REGISTRY", "(none)", "registry and path that push sends images to, e.g. 127.0.0.1:5000/team", false},
	{"SLIPWAY_REGISTRY_USER", "(none)", "registry user name for push", false},
	{"SLIPWAY_REGISTRY_PASSWORD", "(none)", "registry password for push", true},
	{"SLIPWAY_RETENTION", "336h", "old production stacks are deleted after this long", false},
	{"SLIPWAY_KEEP_RELEASES", "2", "previous production stacks always kept for rollback", false},
	{"SLIPWAY_HEALTH_TIMEOUT", "60s", "how long a new stack may take to become healthy", false},
	{"SLIPWAY_DRAIN_TIMEOUT", "10s", "how long in-flight requests may finish on a removed stack", false},
	{"AWS_REGION", "(SDK default chain)", "AWS region; credentials come from the SDK chain (profile, SSO, env, OIDC web identity)", false},
	{"SLIPWAY_AWS_ENDPOINT", "(none)", "AWS API endpoint override, e.g. http://127.0.0.1:5000 for moto", false},
	{"GH_TOKEN / GITHUB_TOKEN", "(gh auth login)", "GitHub token for PR comments and deployments", true},
}, awsSettings...)

// Load reads the configuration from env (os.Getenv in production) and from
// the slipway.yaml found from the working directory (manifest.Find), and
// returns every problem found, joined. Without a slipway.yaml it reads the
// environment alone, as before the manifest.
func Load(env func(string) string) (Config, error) {
	dir, err := os.Getwd()
	if err != nil {
		c, lerr := LoadFrom(env, "")
		return c, errors.Join(lerr, fmt.Errorf("find %s: %w", manifest.FileName, err))
	}
	return LoadFrom(env, dir)
}

// LoadFrom is Load with the slipway.yaml found from dir up to its git
// repository's root; dir "" reads no manifest.
func LoadFrom(env func(string) string, dir string) (Config, error) {
	p := &parser{env: env, src: map[string]Source{}}
	m := p.manifest(dir)
	c := Config{
		App:           p.str("SLIPWAY_APP", fromFile(p, "SLIPWAY_APP", "app", m.App, "slipway")),
		Domain:        strings.ToLower(p.str("SLIPWAY_DOMAIN", "localhost")),
		RouterPort:    p.port("SLIPWAY_ROUTER_PORT", 8080),
		AdminPort:     p.port("SLIPWAY_ROUTER_ADMIN_PORT", 8081),
		RouterImage:   p.str("SLIPWAY_ROUTER_IMAGE", "slipway/router"),
		Registry:      strings.TrimSuffix(p.str("SLIPWAY_REGISTRY", ""), "/"),
		RegistryUser:  p.str("SLIPWAY_REGISTRY_USER", ""),
		RegistryPass:  p.str("SLIPWAY_REGISTRY_PASSWORD", ""),
		Retention:     p.duration("SLIPWAY_RETENTION", 336*time.Hour),
		KeepReleases:  p.count("SLIPWAY_KEEP_RELEASES", 2),
		HealthTimeout: p.duration("SLIPWAY_HEALTH_TIMEOUT", 60*time.Second),
		DrainTimeout:  p.duration("SLIPWAY_DRAIN_TIMEOUT", 10*time.Second),
		AWSRegion:     p.first("AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
		AWSEndpoint:   p.str("SLIPWAY_AWS_ENDPOINT", ""),
		GitHubToken:   p.first("GH_TOKEN / GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN"),
	}
	c.StackPorts = p.stackPorts(c.RouterPort, c.AdminPort)
	c.AppImage = p.str("SLIPWAY_APP_IMAGE", c.App+"/app")
	c.AWS = p.aws(c.Domain)
	if p.src["SLIPWAY_APP"].File == "" { // the manifest checked its own
		if err := naming.ValidateApp(c.App); err != nil {
			p.problem(err)
		}
	}
	c.Target, c.TargetDetected = p.target()
	if c.RouterPort == c.AdminPort && c.RouterPort != 0 {
		p.problem(fmt.Errorf("SLIPWAY_ROUTER_PORT and SLIPWAY_ROUTER_ADMIN_PORT are both %d: set them to different ports", c.RouterPort))
	}
	if !validDomain(c.Domain) {
		p.problem(fmt.Errorf("SLIPWAY_DOMAIN=%q is not a DNS name: set it to e.g. localhost or preview.example.com", c.Domain))
	}
	if (c.RegistryUser == "") != (c.RegistryPass == "") {
		p.problem(errors.New("set both SLIPWAY_REGISTRY_USER and SLIPWAY_REGISTRY_PASSWORD, or neither"))
	}
	c.Manifest = p.effective(m, c)
	c.database = (&parser{env: env, src: p.src}).databaseOn(m) // its problems are LoadDatabase's
	c.sources = p.src
	return c, errors.Join(p.errs...)
}

// DefaultStackPorts is the default of SLIPWAY_ROUTER_STACK_PORTS: 20
// stacks at once, clear of the router's own ports. Docker runs a proxy
// process per published port (about 3 MB each; 100 ports took the router
// 6 s to create on a busy 2-core machine), so the range is small.
const DefaultStackPorts = "18100-18119"

// stackPorts reads SLIPWAY_ROUTER_STACK_PORTS: a range clear of the
// router's traffic and admin ports.
func (p *parser) stackPorts(routerPort, adminPort int) router.PortRange {
	const k = "SLIPWAY_ROUTER_STACK_PORTS"
	v := p.str(k, DefaultStackPorts)
	r, err := router.ParsePortRange(v)
	if err != nil {
		p.problem(fmt.Errorf("%s=%s: %w", k, v, err))
		return router.PortRange{}
	}
	if r.Len() == 0 {
		p.problem(fmt.Errorf("%s is empty: set it to a range such as %s", k, DefaultStackPorts))
	}
	for _, o := range []struct {
		k    string
		port int
	}{{"SLIPWAY_ROUTER_PORT", routerPort}, {"SLIPWAY_ROUTER_ADMIN_PORT", adminPort}} {
		if r.Contains(o.port) {
			p.problem(fmt.Errorf("%s=%s includes %s %d: choose a range clear of it", k, r, o.k, o.port))
		}
	}
	return r
}

// PreviewHost is the host name of a preview with the given host label.
func (c Config) PreviewHost(label string) string {
	return label + "." + c.App + "." + c.Domain
}

// ProductionHost is the host name production answers on.
func (c Config) ProductionHost() string { return c.App + "." + c.Domain }

// URL returns the URL a browser uses for host on this configuration.
func (c Config) URL(host string) string {
	if c.Target == TargetLocal {
		return fmt.Sprintf("http://%s:%d", host, c.RouterPort)
	}
	return "https://" + host
}

// Dial is where tests connect for a host name, and the Host header to send:
// on the local target the router on 127.0.0.1, so tests work where
// *.localhost does not resolve; on aws the URL itself.
func (c Config) Dial(host string) (baseURL, hostHeader string) {
	if c.Target == TargetLocal {
		return fmt.Sprintf("http://127.0.0.1:%d", c.RouterPort), host
	}
	return c.URL(host), ""
}

// target is local unless SLIPWAY_TARGET=aws: AWS credentials on a laptop
// never switch it (the workflows set SLIPWAY_TARGET). The second value says
// why, and how to switch.
func (p *parser) target() (string, string) {
	v := strings.ToLower(strings.TrimSpace(p.env("SLIPWAY_TARGET")))
	if v != "" {
		p.set("SLIPWAY_TARGET", Source{Env: "SLIPWAY_TARGET"})
	}
	switch v {
	case TargetAWS:
		return v, "set by SLIPWAY_TARGET; unset it for the local target (Docker on this machine)"
	case TargetLocal:
		return v, "set by SLIPWAY_TARGET; set SLIPWAY_TARGET=aws to deploy to AWS"
	case "":
		if why := awsConfigured(p.env); why != "" {
			return TargetLocal, "the default; AWS credentials found (" + why + "): set SLIPWAY_TARGET=aws to deploy to AWS"
		}
		return TargetLocal, "the default; set SLIPWAY_TARGET=aws to deploy to AWS"
	}
	p.problem(fmt.Errorf("SLIPWAY_TARGET=%q is not a target: set it to local or aws", v))
	return TargetLocal, "invalid SLIPWAY_TARGET"
}

// awsConfigured says where AWS credentials would come from, or "" when no
// AWS account is configured; config only mentions it. It looks only at the environment and the
// shared files; it makes no network call.
func awsConfigured(env func(string) string) string {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		if env(k) != "" {
			return k
		}
	}
	home := env("HOME")
	files := []string{env("AWS_SHARED_CREDENTIALS_FILE"), env("AWS_CONFIG_FILE")}
	if home != "" {
		files = append(files, filepath.Join(home, ".aws", "credentials"), filepath.Join(home, ".aws", "config"))
	}
	for _, f := range files {
		if f == "" {
			continue
		}
		if st, err := os.Stat(f); err == nil && st.Size() > 0 {
			return f
		}
	}
	return ""
}

func validDomain(d string) bool {
	if d == "" || len(d) > 200 {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if !naming.ValidHostLabel(l) {
			return false
		}
	}
	return true
}

type parser struct {
	env  func(string) string
	errs []error
	m    *manifest.Manifest
	src  map[string]Source
}

func (p *parser) problem(err error) { p.errs = append(p.errs, err) }

// set records that setting got its value from s.
func (p *parser) set(setting string, s Source) {
	if p.src == nil {
		p.src = map[string]Source{}
	}
	p.src[setting] = s
}

func (p *parser) str(k, def string) string {
	if v := strings.TrimSpace(p.env(k)); v != "" {
		p.set(k, Source{Env: k})
		return v
	}
	return def
}

// first is the first of the variables ks that is set; setting names it.
func (p *parser) first(setting string, ks ...string) string {
	for _, k := range ks {
		if v := p.env(k); v != "" {
			p.set(setting, Source{Env: k})
			return v
		}
	}
	return ""
}

func (p *parser) port(k string, def int) int {
	v := p.env(k)
	if v == "" {
		return def
	}
	p.set(k, Source{Env: k})
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		p.problem(fmt.Errorf("%s=%q is not a port: set it to a number from 1 to 65535", k, v))
		return def
	}
	return n
}

func (p *parser) count(k string, def int) int {
	v := p.env(k)
	if v == "" {
		return def
	}
	p.set(k, Source{Env: k})
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 100 {
		p.problem(fmt.Errorf("%s=%q is not a count: set it to a number from 0 to 100", k, v))
		return def
	}
	return n
}

func (p *parser) duration(k string, def time.Duration) time.Duration {
	v := p.env(k)
	if v == "" {
		return def
	}
	p.set(k, Source{Env: k})
	d, err := time.ParseDuration(v)
	if err != nil {
		p.problem(fmt.Errorf("%s=%q is not a duration: set it like 90s, 15m or 336h", k, v))
		return def
	}
	if d <= 0 {
		p.problem(fmt.Errorf("%s=%s: it must be positive: set it like 90s, 15m or 336h", k, v))
		return def
	}
	return d
}
