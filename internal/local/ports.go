package local

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/slipway/slipway/internal/router"
)

// Stack ports: every running stack of the app has a port of the router's
// range (Options.StackPorts), published on 127.0.0.1 with the same number
// inside the router, so http://127.0.0.1:<port> is the stack's own URL:
// any client reaches it with no DNS and no header, and the router sends
// all of its requests to that stack. The router table's port rules are
// the record (the cloud is the state): a stack gets the lowest free port
// at its first deploy, before its container starts, keeps it on every
// re-deploy, and loses it when it is deleted, marked failed or scaled to
// zero. Table writes are conditional, so two deploys at once never get one
// port.

// stackURL is the URL of a stack port.
func stackURL(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }

// PortsExhaustedError is a deploy refused because every stack port is
// taken: it says what to set.
type PortsExhaustedError struct {
	Stack string
	Range router.PortRange
	Taken []string // the stacks holding the ports, sorted
}

func (e *PortsExhaustedError) Error() string {
	taken := e.Taken
	more := ""
	if len(taken) > 5 {
		taken, more = taken[:5], fmt.Sprintf(" and %d more", len(e.Taken)-5)
	}
	wider := router.PortRange{First: e.Range.First, Last: min(e.Range.First+2*e.Range.Len()-1, 65535)}
	return fmt.Sprintf("deploy %s: no free stack port: SLIPWAY_ROUTER_STACK_PORTS=%s (%s) is full, held by %s%s: set SLIPWAY_ROUTER_STACK_PORTS to a wider range, such as %s, or delete stacks you no longer need (`go run mage.go preview:destroy -pr=N`, `go run mage.go cleanup`)",
		e.Stack, e.Range, count(e.Range.Len(), "port"), strings.Join(taken, ", "), more, wider)
}

// portsOn reports whether this provider gives stacks ports.
func (p *Provider) portsOn() bool { return p.o.StackPorts.Len() > 0 }

// portOf is the stack's port in t, 0 when it has none in the range.
func (p *Provider) portOf(t router.Table, stack string) int {
	for _, r := range t.Ports {
		if r.Stack == stack && p.o.StackPorts.Contains(r.Port) {
			return r.Port
		}
	}
	return 0
}

// stackURLs maps each stack with a port in t to its URL.
func (p *Provider) stackURLs(t router.Table) map[string]string {
	out := map[string]string{}
	for _, r := range t.Ports {
		if p.o.StackPorts.Contains(r.Port) {
			out[r.Stack] = stackURL(r.Port)
		}
	}
	return out
}

// ensurePort gives the stack a port unless it has one, and returns it (0
// when stack ports are off).
func (p *Provider) ensurePort(ctx context.Context, stack string) (int, error) {
	if !p.portsOn() {
		return 0, nil
	}
	port := 0
	err := p.update(ctx, "give "+stack+" a stack port", func(t *router.Table) (bool, error) {
		if port = p.portOf(*t, stack); port != 0 {
			return false, nil
		}
		var err error
		port, err = p.allocatePort(ctx, t, stack)
		return err == nil, err
	})
	return port, err
}

// allocatePort adds a rule giving stack the lowest free port of the
// range. When none is free it first takes back the ports of stacks that
// have neither a target nor a container (a deploy killed before its
// container existed).
func (p *Provider) allocatePort(ctx context.Context, t *router.Table, stack string) (int, error) {
	dropPort(t, stack) // a port outside the range
	if port := p.freePort(*t); port != 0 {
		t.Ports = append(t.Ports, router.PortRule{Port: port, Stack: stack})
		return port, nil
	}
	ins, err := p.instances(ctx)
	if err != nil {
		return 0, err
	}
	alive := map[string]bool{}
	for _, in := range ins {
		alive[in.Stack] = true
	}
	for _, tg := range t.Targets {
		alive[tg.Stack] = true
	}
	var taken []string
	kept := t.Ports[:0]
	for _, r := range t.Ports {
		if alive[r.Stack] || !p.o.StackPorts.Contains(r.Port) {
			kept = append(kept, r)
			taken = append(taken, r.Stack)
		} else {
			p.logf("%s: took back stack port %d of %s, which has no container", stack, r.Port, r.Stack)
		}
	}
	t.Ports = kept
	if port := p.freePort(*t); port != 0 {
		t.Ports = append(t.Ports, router.PortRule{Port: port, Stack: stack})
		return port, nil
	}
	sort.Strings(taken)
	return 0, &PortsExhaustedError{Stack: stack, Range: p.o.StackPorts, Taken: taken}
}

// freePort is the lowest port of the range that no rule of t holds, 0
// when there is none.
func (p *Provider) freePort(t router.Table) int {
	used := make(map[int]bool, len(t.Ports))
	for _, r := range t.Ports {
		used[r.Port] = true
	}
	for port := p.o.StackPorts.First; p.o.StackPorts.Contains(port); port++ {
		if !used[port] {
			return port
		}
	}
	return 0
}

// dropPort removes the stack's port rule from t, if it has one, and
// reports whether it did.
func dropPort(t *router.Table, stack string) bool {
	n := len(t.Ports)
	t.Ports = slices.DeleteFunc(t.Ports, func(r router.PortRule) bool { return r.Stack == stack })
	return len(t.Ports) != n
}

// fitPorts makes t's port rules match the range: rules outside it (the
// range changed) go, and every stack with a target but no port (one
// deployed before stack ports, or whose rule just went) gets one while
// ports are free. It reports whether t changed.
func (p *Provider) fitPorts(t *router.Table) bool {
	if !p.portsOn() {
		return false
	}
	n := len(t.Ports)
	t.Ports = slices.DeleteFunc(t.Ports, func(r router.PortRule) bool { return !p.o.StackPorts.Contains(r.Port) })
	changed := len(t.Ports) != n
	for _, tg := range t.Targets {
		if tg.Stack == "" || p.portOf(*t, tg.Stack) != 0 {
			continue
		}
		port := p.freePort(*t)
		if port == 0 {
			p.logf("shared: no free stack port for %s: SLIPWAY_ROUTER_STACK_PORTS=%s is full", tg.Stack, p.o.StackPorts)
			break
		}
		t.Ports = append(t.Ports, router.PortRule{Port: port, Stack: tg.Stack})
		changed = true
	}
	return changed
}

// releasePort removes the stack's port, if it has one: the stack was deleted,
// marked failed, scaled to zero, or its first deploy failed.
func (p *Provider) releasePort(ctx context.Context, stack string) error {
	if !p.portsOn() {
		return nil
	}
	return p.updateTable(ctx, "free the stack port of "+stack, true, func(t *router.Table) (bool, error) {
		return dropPort(t, stack), nil
	})
}
