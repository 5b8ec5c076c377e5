// Package manifest reads slipway.yaml, the file at the root of an app's
// repository that describes the app to Slipway: how to build it, the port
// and health check it serves, the command that tests it, its environment,
// secrets (references, never values), size and database.
//
// Load and Parse return the file's values with relative paths made
// absolute and defaults filled in, and report every problem at once, each
// naming its place (slipway.yaml:7:3). The set of keys is the yaml tags of
// Manifest and its parts; slipway.schema.json describes the same keys for
// editors, and a test keeps the two equal. Environment variables override
// the file in package config, not here.
package manifest

import (
	"maps"
	"time"
)

// FileName is the manifest's name at the root of an app's repository.
const FileName = "slipway.yaml"

// Defaults for what the file leaves out. They are the values Slipway used
// for its sample app before the manifest existed (infra.DefaultContainerPort,
// router.DefaultHealthPath, infra.DefaultCPU and DefaultMemory; a test keeps
// them equal).
const (
	DefaultPort        = 8080
	DefaultHealthPath  = "/healthz"
	DefaultDockerfile  = "Dockerfile"
	DefaultTestTimeout = 10 * time.Minute // go test's own bound, which the sample app's tests ran under
	DefaultCPU         = 256              // CPU units: 0.25 vCPU
	DefaultMemory      = 512              // MiB
)

// Manifest is an app as slipway.yaml describes it. Paths are absolute once
// loaded. The yaml tags are the file's keys; range and enum tags bound the
// integers (the schema carries the same bounds).
type Manifest struct {
	App        string            `yaml:"app"` // as SLIPWAY_APP; "" when the file has none
	Build      Build             `yaml:"build"`
	Port       int               `yaml:"port" range:"1-65535"` // the container port
	Health     Health            `yaml:"health"`
	Test       Test              `yaml:"test"`
	Env        map[string]string `yaml:"env"`        // every environment
	Preview    Stage             `yaml:"preview"`    // overrides for previews
	Production Stage             `yaml:"production"` // overrides for production
	// Secrets maps a variable name to a reference: on aws a Secrets Manager
	// ARN or name or an SSM parameter; locally the variable of that name in
	// the caller's environment. Never a value.
	Secrets   map[string]string `yaml:"secrets"`
	Resources Resources         `yaml:"resources"`
	Database  *Database         `yaml:"database"` // nil: the file asks for no database

	File string `yaml:"-"` // the file as messages name it; "" for Default
	Dir  string `yaml:"-"` // absolute directory of the file: relative paths start here
	Root string `yaml:"-"` // the repository's root (the git root, else Dir): no path leaves it

	keys map[string]keyPos // every key the file sets, by dotted path
}

// Build says how the app's image is built: from Dockerfile in Context, or,
// with Go set, by compiling that Go main package into a static binary that
// Dockerfile copies (the fast path Slipway's sample app uses).
type Build struct {
	Context    string            `yaml:"context"`    // default: the file's directory
	Dockerfile string            `yaml:"dockerfile"` // relative to Context; default Context/Dockerfile
	Target     string            `yaml:"target"`     // multi-stage target; "" for the last stage
	Args       map[string]string `yaml:"args"`       // build arguments
	Go         string            `yaml:"go"`         // directory of a Go main package; "" for a Dockerfile build
}

// IsGo reports whether the image is built by the Go fast path.
func (b Build) IsGo() bool { return b.Go != "" }

// Health is the app's health check. Path defaults to /healthz; the timings
// and thresholds the file leaves out are the target's (LocalHealth,
// AWSHealth, applied by HealthOr), zero until then.
type Health struct {
	Path               string        `yaml:"path"`
	Interval           time.Duration `yaml:"interval"`
	Timeout            time.Duration `yaml:"timeout"`
	HealthyThreshold   int           `yaml:"healthy_threshold" range:"1-10"`
	UnhealthyThreshold int           `yaml:"unhealthy_threshold" range:"1-10"`
	Grace              time.Duration `yaml:"grace" zero:"ok"` // failures this long after start do not count
}

// The health checks the targets used before the manifest: the local
// router's (internal/local) and the aws target group's and service's
// (infra/deploy.yaml).
var (
	LocalHealth = Health{Path: DefaultHealthPath, Interval: 500 * time.Millisecond, Timeout: time.Second, HealthyThreshold: 1, UnhealthyThreshold: 3}
	AWSHealth   = Health{Path: DefaultHealthPath, Interval: 5 * time.Second, Timeout: 4 * time.Second, HealthyThreshold: 2, UnhealthyThreshold: 2, Grace: 10 * time.Second}
)

// HealthOr returns the health check with every key the file leaves out
// taken from def, a target's default.
func (m *Manifest) HealthOr(def Health) Health {
	h := m.Health
	if !m.Has("health.path") {
		h.Path = def.Path
	}
	if !m.Has("health.interval") {
		h.Interval = def.Interval
	}
	if !m.Has("health.timeout") {
		h.Timeout = def.Timeout
	}
	if !m.Has("health.healthy_threshold") {
		h.HealthyThreshold = def.HealthyThreshold
	}
	if !m.Has("health.unhealthy_threshold") {
		h.UnhealthyThreshold = def.UnhealthyThreshold
	}
	if !m.Has("health.grace") {
		h.Grace = def.Grace
	}
	return h
}

// Test is the command that tests a deployed stack: it runs from the
// file's directory, and its exit code decides.
type Test struct {
	Command []string      `yaml:"command"` // nil: the app has no tests
	JUnit   string        `yaml:"junit"`   // JUnit XML report the command writes; "" for none
	Timeout time.Duration `yaml:"timeout"`
}

// Stage holds the overrides of one kind of environment.
type Stage struct {
	Env map[string]string `yaml:"env"`
}

// Resources is the size of each deploy.
type Resources struct {
	CPU    int `yaml:"cpu" enum:"256,512,1024,2048,4096,8192,16384"` // CPU units (1024 = 1 vCPU)
	Memory int `yaml:"memory" range:"512-122880"`                    // MiB
}

// Database asks for a Postgres database; DATABASE_URL reaches the app.
// Migrations is read at build time into the image's schema labels
// (build.SchemaLabels); Migrate and Seed are the whole commands of one-off
// runs of the app's image, migrate under the migrate contract
// (deploy.MigrateEnv, deploy.MigrateToEnv, a JSON last line). The schema
// (slipway.schema.json) describes each for the user.
type Database struct {
	Migrations string   `yaml:"migrations"` // directory of <version>_<name>.sql files, -- slipway:expand / contract on the first line
	Migrate    []string `yaml:"migrate"`    // run in a one-off container/task of the app's image
	Seed       []string `yaml:"seed"`       // likewise, fills the golden copy previews clone
}

// Default is the manifest of an app without a slipway.yaml: every default,
// no file, no paths.
func Default() *Manifest {
	return &Manifest{
		Port:      DefaultPort,
		Health:    Health{Path: DefaultHealthPath},
		Test:      Test{Timeout: DefaultTestTimeout},
		Resources: Resources{CPU: DefaultCPU, Memory: DefaultMemory},
	}
}

// Found reports whether m was read from a file.
func (m *Manifest) Found() bool { return m.File != "" }

// Has reports whether the file sets key, a dotted path such as "port",
// "health.path" or "env.LOG_LEVEL".
func (m *Manifest) Has(key string) bool {
	_, ok := m.keys[key]
	return ok
}

// Line is the line of key in the file, 0 when the file does not set it.
func (m *Manifest) Line(key string) int { return m.keys[key].key.Line }

// Environment returns the variables of a preview (production false) or of
// production: env, then the stage's env on top. Secrets are not in it.
func (m *Manifest) Environment(production bool) map[string]string {
	env := maps.Clone(m.Env)
	if env == nil {
		env = map[string]string{}
	}
	over := m.Preview.Env
	if production {
		over = m.Production.Env
	}
	maps.Copy(env, over)
	return env
}
