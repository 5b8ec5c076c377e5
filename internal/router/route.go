package router

import (
	"fmt"
	"math/bits"
	"net/http"
	"sort"
	"strings"
)

// prodEntry is a production entry with a positive weight.
type prodEntry struct {
	t      *target
	weight uint64
}

// snapshot is an immutable, compiled table. The request path loads it with
// one atomic read; Replace builds a new one and swaps it in.
type snapshot struct {
	spec      *spec
	order     []*target // table order
	targets   map[string]*target
	stacks    map[string]*target // X-Slipway-Stack by stack name
	hosts     map[string]*target
	prodHosts map[string]bool
	ports     map[int]string // stack port -> stack
	prod      []prodEntry
	prodTotal uint64
}

func emptySnapshot() *snapshot {
	s, err := compile(Table{})
	if err != nil {
		panic(err) // the empty table is valid; a failure here is a bug
	}
	return &snapshot{spec: s, targets: map[string]*target{}, stacks: map[string]*target{}, hosts: map[string]*target{}, prodHosts: map[string]bool{}, ports: map[int]string{}}
}

// decision is the outcome of routing one request: a target, or a status and
// message the router answers itself.
type decision struct {
	t      *target
	rule   rule
	status int
	msg    string
}

// route chooses the target for a request with the given host (any case, port
// allowed), X-Slipway-Stack value (if hasStack) and client id.
func (s *snapshot) route(host, stack string, hasStack bool, clientID string) decision {
	if hasStack {
		t := s.targets[stack]
		if t == nil {
			t = s.stacks[stack]
		}
		switch {
		case t == nil:
			return decision{rule: ruleHeader, status: http.StatusNotFound, msg: s.unknownStack(stack)}
		case !t.healthy.Load():
			return decision{t: t, rule: ruleHeader, status: http.StatusServiceUnavailable,
				msg: fmt.Sprintf("X-Slipway-Stack: target %q is not healthy yet (the header override only reaches healthy targets)", t.name)}
		}
		return decision{t: t, rule: ruleHeader}
	}
	key := hostKey(host)
	if t := s.hosts[key]; t != nil {
		if !t.healthy.Load() {
			return decision{t: t, rule: ruleHost, status: http.StatusServiceUnavailable,
				msg: fmt.Sprintf("target %q for host %q is not healthy yet", t.name, key)}
		}
		return decision{t: t, rule: ruleHost}
	}
	if !s.prodHosts[key] {
		return decision{rule: ruleHost, status: http.StatusNotFound,
			msg: fmt.Sprintf("no environment matches this host: %q (a preview that was destroyed, or a typo?)", truncate(key))}
	}
	if len(s.prod) == 0 {
		return decision{rule: ruleProduction, status: http.StatusServiceUnavailable, msg: "no production stack is live"}
	}
	if t := s.pickProduction(hashClient(clientID)); t != nil {
		return decision{t: t, rule: ruleProduction}
	}
	return decision{rule: ruleProduction, status: http.StatusServiceUnavailable,
		msg: "no healthy production target: every weighted target is failing its health check"}
}

// routePort chooses the target for a request that arrived on stack port
// port: the stack of the port's rule, reached as X-Slipway-Stack reaches
// it, whatever the request's Host and headers.
func (s *snapshot) routePort(port int) decision {
	stack, ok := s.ports[port]
	if !ok {
		return decision{rule: rulePort, status: http.StatusNotFound,
			msg: fmt.Sprintf("no stack has port %d (a stack that was deleted, or not deployed yet?)", port)}
	}
	t := s.stacks[stack]
	if t == nil {
		t = s.targets[stack]
	}
	switch {
	case t == nil:
		return decision{rule: rulePort, status: http.StatusServiceUnavailable,
			msg: fmt.Sprintf("stack %q (port %d) has no running instance: it is starting, or was scaled to zero", stack, port)}
	case !t.healthy.Load():
		return decision{t: t, rule: rulePort, status: http.StatusServiceUnavailable,
			msg: fmt.Sprintf("stack %q (port %d): target %q is not healthy yet", stack, port, t.name)}
	}
	return decision{t: t, rule: rulePort}
}

func (s *snapshot) unknownStack(stack string) string {
	names := make([]string, 0, len(s.order))
	for _, t := range s.order {
		names = append(names, t.name)
	}
	sort.Strings(names)
	return fmt.Sprintf("X-Slipway-Stack: unknown target %q; known targets: %s", truncate(stack), strings.Join(names, ", "))
}

// pickProduction maps the client hash h onto the weighted targets: the
// cumulative weight ranges in table order, so a client stays where it is
// unless its own range moves. When the chosen target is unhealthy the same
// hash picks among the healthy ones; nil means none is healthy.
func (s *snapshot) pickProduction(h uint64) *target {
	x := reduce(h, s.prodTotal)
	for _, w := range s.prod {
		if x < w.weight {
			if w.t.healthy.Load() {
				return w.t
			}
			break
		}
		x -= w.weight
	}
	var total uint64
	for _, w := range s.prod {
		if w.t.healthy.Load() {
			total += w.weight
		}
	}
	if total == 0 {
		return nil
	}
	x = reduce(h, total)
	for _, w := range s.prod {
		if !w.t.healthy.Load() {
			continue
		}
		if x < w.weight {
			return w.t
		}
		x -= w.weight
	}
	return nil // health changed between the loops; the client retries
}

// hashClient hashes a client id uniformly: FNV-1a, then the murmur3
// finalizer to spread FNV's weak high bits.
func hashClient(id string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// reduce maps h uniformly onto [0, n) (Lemire's multiply-shift).
func reduce(h, n uint64) uint64 {
	hi, _ := bits.Mul64(h, n)
	return hi
}

// hostKey is host lower-cased and without its port.
func hostKey(host string) string {
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i > 0 {
			host = host[:i+1]
		}
	} else if i := strings.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(host)
		}
	}
	return host
}

// truncate shortens s for a message.
func truncate[S ~string | ~[]byte](s S) string {
	if len(s) > 64 {
		return string(s[:64]) + "..."
	}
	return string(s)
}
