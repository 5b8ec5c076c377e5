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
	prodHosts    map[string]bool
	ports        map[int]string // stack port -> stack
	production   []Weighted
	drainTimeout time.Duration
	idleTimeout  time.Duration
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
	s := &spec{table: t, hosts: make(map[string]string, len(t.Hosts)), prodHosts: make(map[string]bool, len(t.ProductionHosts)), ports: make(map[int]string, len(t.Ports))}
	p.limit("targets", len(t.Targets), MaxTargets)
	p.limit("hosts", len(t.Hosts), MaxHostRules)
	p.limit("production_hosts", len(t.ProductionHosts), MaxProductionHosts)
	p.limit("production", len(t.Production), MaxWeighted)
	p.limit("ports", len(t.Ports), MaxPorts)
	if len(p) > 0 {
		return nil, &TableError{Problems: p} // too big to look at further
	}
	s.drainTimeout = p.parseDuration("drain_timeout", t.DrainTimeout, DefaultDrainTimeout, 0, maxDrainTimeout)
	s.idleTimeout = p.parseDuration("idle_timeout", t.IdleTimeout, DefaultIdleTimeout, minIdleTimeout, maxIdleTimeout)
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
		host := p.host(where+".host", h.Host)
		if s.hosts[host] != "" {
			p.addf("%s.host: duplicate host %q: each host routes to one target", where, h.Host)
		}
		if !names[h.Target] {
			p.addf("%s.target: unknown target %q: add it to targets or fix the name", where, h.Target)
		}
		s.hosts[host] = h.Target
	}
	for i, h := range t.ProductionHosts {
		where := fmt.Sprintf("production_hosts[%d]", i)
		host := p.host(where, h)
		if s.hosts[host] != "" {
			p.addf("%s: %q is also a preview host rule: a host routes one way", where, h)
		}
		s.prodHosts[host] = true
	}
	compilePorts(&p, t.Ports, s.ports)
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
	t.ProductionHosts = append([]string(nil), t.ProductionHosts...)
	t.Ports = append([]PortRule(nil), t.Ports...)
	if t.LastLive != nil {
		ll := make(map[string]time.Time, len(t.LastLive))
		for k, v := range t.LastLive {
			ll[k] = v
		}
		t.LastLive = ll
	}
	return t
}

// limit records a problem when a list is longer than max.
func (p *problems) limit(where string, n, max int) {
	if n > max {
		p.addf("%s: %d entries, at most %d are allowed", where, n, max)
	}
}

// host checks a host name of a rule and returns it lower-cased.
func (p *problems) host(where, h string) string {
	host := strings.ToLower(h)
	switch {
	case host == "" || len(host) > 253 || strings.ContainsAny(host, " /\r\n\t"):
		p.addf("%s: %q is not a host name", where, h)
	case strings.Contains(host, ":") && !strings.HasPrefix(host, "["):
		p.addf("%s: %q includes a port: drop it (ports are stripped before matching)", where, h)
	}
	return host
}

// compilePorts checks the port rules and fills ports: one port per stack,
// one stack per port.
func compilePorts(p *problems, rules []PortRule, ports map[int]string) {
	stacks := make(map[string]int, len(rules))
	for i, pr := range rules {
		where := fmt.Sprintf("ports[%d]", i)
		other, dupPort := ports[pr.Port]
		switch {
		case pr.Port < 1 || pr.Port > 65535:
			p.addf("%s.port: %d is not a TCP port: use 1 to 65535", where, pr.Port)
		case dupPort:
			p.addf("%s.port: %d also routes to %q: a port routes to one stack", where, pr.Port, other)
		default:
			ports[pr.Port] = pr.Stack
		}
		first, dupStack := stacks[pr.Stack]
		switch {
		case !validName(pr.Stack):
			p.addf("%s.stack: %q must be 1 to %d characters of A-Z a-z 0-9 . _ -", where, pr.Stack, maxNameLen)
		case dupStack:
			p.addf("%s.stack: %q already has port %d: a stack has one port", where, pr.Stack, first)
		default:
			stacks[pr.Stack] = pr.Port
		}
	}
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
