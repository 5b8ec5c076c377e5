package router

import (
	"fmt"
	"strings"
	"time"
)

// TableError is returned for a table that cannot be applied. It lists every
// problem found, each saying what to fix. The admin API sends Problems as
// {"errors": [...]} with status 400, and Client.Replace returns it back.
type TableError struct {
	Problems []string
}

func (e *TableError) Error() string {
	return "invalid router table: " + strings.Join(e.Problems, "; ")
}

// targetSpec is one validated target.
type targetSpec struct {
	name, url, addr string
	stack           string
	health          healthConfig
}

// spec is a validated table, resolved with defaults.
type spec struct {
	table        Table
	targets      []targetSpec
	hosts        map[string]string // lower-case host -> target name
	production   []Weighted
	drainTimeout time.Duration
}

// Validate checks the table and returns a *TableError listing every problem,
// or nil.
func (t Table) Validate() error {
	_, err := compile(t)
	return err
}

// compile validates t and resolves its defaults.
func compile(t Table) (*spec, error) {
	var p problems
	t = cloneTable(t)
	s := &spec{table: t, hosts: make(map[string]string, len(t.Hosts))}
	s.drainTimeout = p.parseDuration("drain_timeout", t.DrainTimeout, DefaultDrainTimeout)
	base := p.resolveHealth("health", healthConfig{
		path: DefaultHealthPath, interval: DefaultHealthInterval, timeout: DefaultHealthTimeout,
		healthy: DefaultHealthyThreshold, unhealthy: DefaultUnhealthyThreshold,
	}, &t.Health)
	names := make(map[string]bool, len(t.Targets))
	for i, tg := range t.Targets {
		where := fmt.Sprintf("targets[%d]", i)
		switch {
		case !validName(tg.Name):
			p.addf("%s.name: %q must be 1 to %d characters of A-Z a-z 0-9 . _ -", where, tg.Name, maxNameLen)
		case names[tg.Name]:
			p.addf("%s.name: duplicate target name %q: give each target its own name", where, tg.Name)
		}
		names[tg.Name] = true
		if tg.Stack != "" && !validName(tg.Stack) {
			p.addf("%s.stack: %q must be 1 to %d characters of A-Z a-z 0-9 . _ -", where, tg.Stack, maxNameLen)
		}
		addr := p.checkTargetURL(where, tg.URL)
		hc := p.resolveHealth(where+".health", base, tg.Health)
		s.targets = append(s.targets, targetSpec{name: tg.Name, url: tg.URL, addr: addr, stack: tg.Stack, health: hc})
	}
	for i, h := range t.Hosts {
		where := fmt.Sprintf("hosts[%d]", i)
		host := strings.ToLower(h.Host)
		switch {
		case host == "" || strings.ContainsAny(host, " /\r\n\t"):
			p.addf("%s.host: %q is not a host name", where, h.Host)
		case strings.Contains(host, ":") && !strings.HasPrefix(host, "["):
			p.addf("%s.host: %q includes a port: drop it (ports are stripped before matching)", where, h.Host)
		case s.hosts[host] != "":
			p.addf("%s.host: duplicate host %q: each host routes to one target", where, h.Host)
		}
		if !names[h.Target] {
			p.addf("%s.target: unknown target %q: add it to targets or fix the name", where, h.Target)
		}
		s.hosts[host] = h.Target
	}
	compileProduction(&p, t.Production, names)
	s.production = t.Production
	if len(p) > 0 {
		return nil, &TableError{Problems: p}
	}
	return s, nil
}

// cloneTable copies t deeply so that the caller's slices and pointers are
// not shared with the running table.
func cloneTable(t Table) Table {
	t.Targets = append([]Target(nil), t.Targets...)
	for i := range t.Targets {
		if h := t.Targets[i].Health; h != nil {
			hc := *h
			t.Targets[i].Health = &hc
		}
	}
	t.Hosts = append([]HostRule(nil), t.Hosts...)
	t.Production = append([]Weighted(nil), t.Production...)
	return t
}

func compileProduction(p *problems, prod []Weighted, names map[string]bool) {
	seen := make(map[string]bool, len(prod))
	sum := 0
	for i, w := range prod {
		where := fmt.Sprintf("production[%d]", i)
		if !names[w.Target] {
			p.addf("%s.target: unknown target %q: add it to targets or fix the name", where, w.Target)
		}
		if seen[w.Target] {
			p.addf("%s.target: %q appears twice: merge the weights into one entry", where, w.Target)
		}
		seen[w.Target] = true
		if w.Weight < 0 || w.Weight > maxWeight {
			p.addf("%s.weight: %d is out of range: use 0 to %d", where, w.Weight, maxWeight)
			continue
		}
		sum += w.Weight
	}
	if len(prod) > 0 && sum == 0 {
		p.addf("production: weights sum to 0: give at least one target a positive weight, or send an empty production list to serve 503")
	}
}
