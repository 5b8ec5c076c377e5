package router

import (
	"errors"
	"strings"
	"testing"
)

var two = []Target{{Name: "a", URL: "http://a:8080"}, {Name: "b", URL: "http://b:8080"}}

var validateTests = map[string]struct {
	table Table
	want  []string // substrings, one per expected problem, in order
}{
	"an empty table is valid (non-preview hosts then get 503)": {table: Table{}},
	"a full table is valid": {table: Table{
		Targets:      two,
		Hosts:        []HostRule{{Host: "PR-42.app.localhost", Target: "a"}},
		Production:   []Weighted{{Target: "a", Weight: 90}, {Target: "b", Weight: 10}},
		Health:       HealthCheck{Path: "/healthz", Interval: "1s", Timeout: "1s", HealthyThreshold: 2, UnhealthyThreshold: 2},
		DrainTimeout: "10s",
	}},
	"a host or production entry naming an unknown target is reported with the fix": {
		table: Table{Targets: two, Hosts: []HostRule{{Host: "x.localhost", Target: "nope"}},
			Production: []Weighted{{Target: "gone", Weight: 1}}},
		want: []string{`hosts[0].target: unknown target "nope"`, `production[0].target: unknown target "gone"`},
	},
	"negative weights and weights summing to zero are both reported": {
		table: Table{Targets: two, Production: []Weighted{{Target: "a", Weight: -1}, {Target: "b", Weight: 0}}},
		want:  []string{"production[0].weight: -1 is out of range", "production: weights sum to 0"},
	},
	"duplicate hosts (any case) and duplicate target names are reported": {
		table: Table{Targets: append(two, Target{Name: "a", URL: "http://c:1"}),
			Hosts: []HostRule{{Host: "x.localhost", Target: "a"}, {Host: "X.localhost", Target: "b"}}},
		want: []string{`targets[2].name: duplicate target name "a"`, `hosts[1].host: duplicate host "X.localhost"`},
	},
	"bad URLs say what form to use": {
		table: Table{Targets: []Target{{Name: "a", URL: "https://a"}, {Name: "b", URL: "http://b/app"}, {Name: "c", URL: "::"}}},
		want:  []string{"targets[0].url", "must use http://", "targets[1].url", "drop the path", "targets[2].url", "does not parse"},
	},
	"bad durations and thresholds are all reported": {
		table: Table{Targets: []Target{{Name: "a", URL: "http://a:1", Health: &HealthCheck{Interval: "soon", UnhealthyThreshold: -2}}},
			Health: HealthCheck{Timeout: "-1s", HealthyThreshold: 1000}, DrainTimeout: "10"},
		want: []string{"drain_timeout", "health.timeout", "health.healthy_threshold", "targets[0].health.interval", "targets[0].health.unhealthy_threshold"},
	},
	"a port rule may keep a port for a stack with no target yet": {
		table: Table{Targets: []Target{{Name: "a-1", URL: "http://a-1:1", Stack: "a"}}, Ports: []PortRule{{Port: 18100, Stack: "a"}, {Port: 18101, Stack: "b"}}},
	},
	"a port with two stacks, a stack with two ports and a port out of range are reported": {
		table: Table{Targets: two, Ports: []PortRule{{Port: 18100, Stack: "a"}, {Port: 18100, Stack: "b"}, {Port: 18101, Stack: "a"}, {Port: 70000, Stack: "c"}, {Port: 18102, Stack: "c d"}}},
		want:  []string{`ports[1].port: 18100 also routes to "a"`, `ports[2].stack: "a" already has port 18100`, "ports[3].port: 70000 is not a TCP port", `ports[4].stack: "c d" must be`},
	},
	"a bad or negative health grace is reported": {
		table: Table{Targets: []Target{{Name: "a", URL: "http://a:1", Health: &HealthCheck{Grace: "-1s"}}}, Health: HealthCheck{Grace: "later"}},
		want:  []string{`health.grace: "later" is not a duration from 0s`, `targets[0].health.grace: "-1s"`},
	},
	"a host with a port and a bad target name are reported": {
		table: Table{Targets: []Target{{Name: "a b", URL: "http://a:1"}}, Hosts: []HostRule{{Host: "x.localhost:8080", Target: "a b"}}},
		want:  []string{"targets[0].name", "hosts[0].host", "includes a port"},
	},
}

func TestValidate(t *testing.T) {
	for name, tc := range validateTests {
		t.Run(name, func(t *testing.T) {
			err := tc.table.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			var te *TableError
			if !errors.As(err, &te) {
				t.Fatalf("Validate: %v, want *TableError", err)
			}
			joined := strings.Join(te.Problems, "\n")
			rest := joined
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("problems lack %q (in order); got:\n%s", w, joined)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}
