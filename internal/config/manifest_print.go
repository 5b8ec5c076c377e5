package config

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// manifestRows are the app's settings from slipway.yaml, each with its
// line or "default".
func (c Config) manifestRows() []row {
	m := c.Manifest
	if m == nil {
		return nil
	}
	var rows []row
	if m.Found() {
		b := m.Build
		rows = append(rows,
			c.set("build.context", b.Context),
			c.set("build.dockerfile", b.Dockerfile),
			c.set("build.target", or(b.Target, "(none: the last stage)")),
			c.set("build.go", or(b.Go, "(none: a Dockerfile build)")))
		rows = append(rows, c.mapRows("build.args", b.Args)...)
	} else {
		rows = append(rows, row{"build", "default", "Slipway's sample app: go ./sample-app with sample-app/Dockerfile"})
	}
	h := m.Health
	rows = append(rows,
		c.set("port", strconv.Itoa(m.Port)),
		c.set("health.path", h.Path),
		c.set("health.interval", h.Interval.String()),
		c.set("health.timeout", h.Timeout.String()),
		c.set("health.healthy_threshold", strconv.Itoa(h.HealthyThreshold)),
		c.set("health.unhealthy_threshold", strconv.Itoa(h.UnhealthyThreshold)),
		c.set("health.grace", h.Grace.String()))
	command := "go test -count=1 -json ./sample-app/integration (the sample app's tests)"
	if m.Found() {
		command = or(words(m.Test.Command), "(none: the app has no tests)")
	}
	rows = append(rows,
		c.set("test.command", command),
		c.set("test.junit", or(m.Test.JUnit, "(none)")),
		c.set("test.timeout", m.Test.Timeout.String()))
	rows = append(rows, c.mapRows("env", m.Env)...)
	rows = append(rows, c.mapRows("preview.env", m.Preview.Env)...)
	rows = append(rows, c.mapRows("production.env", m.Production.Env)...)
	rows = append(rows, c.mapRows("secrets", m.Secrets)...) // references only: no value is ever read here
	if d := m.Database; d != nil {
		rows = append(rows,
			c.set("database.migrations", or(d.Migrations, "(none)")),
			c.set("database.migrate", or(words(d.Migrate), "(none)")),
			c.set("database.seed", or(words(d.Seed), "(none)")))
	}
	return rows
}

// mapRows is a row per entry of vars, by name, or one saying there is none.
func (c Config) mapRows(key string, vars map[string]string) []row {
	if len(vars) == 0 {
		return []row{c.set(key, "(none)")}
	}
	var rows []row
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		rows = append(rows, c.set(key+"."+name, vars[name]))
	}
	return rows
}

// words is a command as the manifest writes it: ["npm", "test"].
func words(cmd []string) string {
	if cmd == nil {
		return ""
	}
	q := make([]string, len(cmd))
	for i, w := range cmd {
		q[i] = strconv.Quote(w)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func or(v, none string) string {
	if v == "" {
		return none
	}
	return v
}
