package router

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Router.
type Options struct {
	// StateDir is where the table is saved and loaded from; empty keeps
	// the table in memory only.
	StateDir string
	// AccessLog receives one line per request; nil disables access logs
	// and keeps logging off the request path.
	AccessLog *slog.Logger
	// Log receives router events (health changes, drains); nil discards them.
	Log *slog.Logger
	// ClientIdleTimeout closes client keep-alive connections idle for that
	// long, and bounds how long a client may take to send a request head
	// (default 60s).
	ClientIdleTimeout time.Duration
	// AdminToken, when set, must come with every admin request but
	// GET /healthz as "Authorization: Bearer <token>".
	AdminToken string
}

// Router routes client requests to targets by its current table.
type Router struct {
	log, access *slog.Logger
	errorLog    *stdlog.Logger
	token       string
	store       *store
	health      *http.Client
	local       *targetMetrics // answers the router gives itself
	server      *http.Server   // traffic by host, production split and header
	portServer  *http.Server   // traffic on stack ports (ServePort)
	clientIdle  time.Duration
	idleTimeout atomic.Int64 // toward targets, from the table; nanoseconds

	snap     atomic.Pointer[snapshot]
	mu       sync.Mutex // serialises Replace; guards draining
	draining map[*target]struct{}
	drainWG  sync.WaitGroup
	shutting atomic.Bool
	now      func() time.Time
}

// New returns a router that serves the table saved in opts.StateDir, if
// any, or an empty table.
func New(opts Options) (*Router, error) {
	r := &Router{
		log: opts.Log, access: opts.AccessLog, token: opts.AdminToken,
		health: &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: 2, IdleConnTimeout: 10 * time.Second, DisableCompression: true,
		}},
		local:    newTargetMetrics(""),
		draining: make(map[*target]struct{}),
		now:      time.Now,
	}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r.errorLog = slog.NewLogLogger(r.log.Handler(), slog.LevelDebug)
	r.clientIdle = opts.ClientIdleTimeout
	if r.clientIdle <= 0 {
		r.clientIdle = 60 * time.Second
	}
	r.server = r.newServer(r.clientIdle, r)
	r.portServer = r.newServer(r.clientIdle, http.HandlerFunc(r.servePort))
	r.idleTimeout.Store(int64(DefaultIdleTimeout))
	r.snap.Store(emptySnapshot())
	if opts.StateDir == "" {
		return r, nil
	}
	st, err := openStore(opts.StateDir)
	if err != nil {
		return nil, err
	}
	r.store = st
	t, ok, err := st.load()
	if err != nil {
		return nil, err
	}
	if ok {
		s, err := compile(t)
		if err != nil {
			return nil, fmt.Errorf("load table from %s: %w (fix or delete the file)", st.path(), err)
		}
		r.mu.Lock()
		r.apply(s)
		r.mu.Unlock()
		r.log.Info("table loaded", "path", st.path(), "targets", len(t.Targets))
	}
	return r, nil
}

// Replace validates t, saves it and swaps it in. An invalid table returns a
// *TableError and changes nothing. Replace does not wait for removed targets
// to drain.
func (r *Router) Replace(t Table) error { return r.ReplaceIf(t, "") }

// ErrConflict is returned by ReplaceIf when the table changed since the
// caller read it: read it again, re-apply the change and retry.
var ErrConflict = errors.New("the router table changed since it was read")

// ETag identifies a table's content, for optimistic concurrency between
// writers that read, change and replace it.
func ETag(t Table) string {
	b, err := json.Marshal(t)
	if err != nil {
		return `"unencodable"`
	}
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// ReplaceIf is Replace, done only if the current table's ETag is etag (any
// table when etag is empty); otherwise it returns ErrConflict and changes
// nothing.
func (r *Router) ReplaceIf(t Table, etag string) error {
	s, err := compile(t)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if etag != "" && etag != r.etag() {
		return ErrConflict
	}
	s.table.LastLive = lastLive(r.snap.Load().spec.table, s.table, r.now())
	t = s.table
	if r.store != nil {
		if err := r.store.save(t); err != nil {
			return fmt.Errorf("save table: %w", err)
		}
	}
	r.apply(s)
	return nil
}

// apply swaps in s; r.mu must be held. Targets with the same name and URL
// carry over with their health; the others start unhealthy and removed ones
// drain in the background.
func (r *Router) apply(s *spec) {
	old := r.snap.Load()
	r.idleTimeout.Store(int64(s.idleTimeout))
	next := &snapshot{spec: s, targets: make(map[string]*target, len(s.targets)), hosts: make(map[string]*target, len(s.hosts)), prodHosts: s.prodHosts, ports: s.ports}
	kept := make(map[*target]bool, len(s.targets))
	for _, ts := range s.targets {
		t := old.targets[ts.name]
		if t != nil && t.url == ts.url && t.addr == ts.addr {
			kept[t] = true
			if t.hc != ts.health {
				t.startHealth(ts.health, r.health, r.log)
			}
		} else {
			t = newTarget(ts, r.metricsFor(ts.name, old))
			r.newProxy(t)
			t.startHealth(ts.health, r.health, r.log)
		}
		next.order = append(next.order, t)
		next.targets[ts.name] = t
	}
	for host, name := range s.hosts {
		next.hosts[host] = next.targets[name]
	}
	for _, w := range s.production {
		if w.Weight > 0 {
			next.prod = append(next.prod, prodEntry{t: next.targets[w.Target], weight: uint64(w.Weight)})
			next.prodTotal += uint64(w.Weight)
		}
	}
	next.stacks = stackAliases(s, next)
	r.snap.Store(next)
	for _, t := range old.order {
		if !kept[t] {
			r.startDrain(t, s.drainTimeout)
		}
	}
}

// metricsFor reuses the counters of a target with the same name that is
// leaving (URL changed) or draining, so that one series never splits in two.
func (r *Router) metricsFor(name string, old *snapshot) *targetMetrics {
	if t := old.targets[name]; t != nil {
		return t.metrics
	}
	for t := range r.draining {
		if t.name == name {
			return t.metrics
		}
	}
	return newTargetMetrics(name)
}

// startDrain stops new requests to t at once and lets its in-flight ones
// finish until timeout; r.mu must be held. The waiting happens outside it.
func (r *Router) startDrain(t *target, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	t.mu.Lock()
	t.drainDeadline = deadline
	t.mu.Unlock()
	t.draining.Store(true)
	t.stopHealthChecks()
	r.draining[t] = struct{}{}
	r.drainWG.Add(1)
	r.log.Info("target draining", "target", t.name, "in_flight", t.inflight.Load(), "deadline", deadline)
	go r.finishDrain(t, deadline)
}

// finishDrain waits for t's requests in flight. At the deadline it cancels
// those left: a request still waiting for its answer gets a 502 that says
// why, one whose answer is streaming has its client connection closed.
func (r *Router) finishDrain(t *target, deadline time.Time) {
	defer r.drainWG.Done()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	cut := false
	for t.inflight.Load() > 0 {
		now := time.Now()
		if !cut && now.After(deadline) {
			r.log.Warn("drain deadline passed: cutting requests", "target", t.name, "in_flight", t.inflight.Load())
			t.cut()
			cut, deadline = true, now.Add(time.Second)
		} else if cut && now.After(deadline) {
			break // the cut requests are unwinding; nothing is left to wait for
		}
		<-tick.C
	}
	t.cut()
	t.transport.CloseIdleConnections()
	r.mu.Lock()
	delete(r.draining, t)
	r.mu.Unlock()
	r.log.Info("target drained", "target", t.name, "cut", cut)
}

// etag is the ETag of the current table.
func (r *Router) etag() string { return ETag(r.snap.Load().spec.table) }

// Table returns a copy of the current table as it was given.
func (r *Router) Table() Table {
	return cloneTable(r.snap.Load().spec.table)
}

// Status reports every target of the table, in table order, then the
// targets still draining, by name.
func (r *Router) Status() Status {
	st := Status{Targets: []TargetStatus{}}
	for _, t := range r.snap.Load().order {
		st.Targets = append(st.Targets, t.status())
	}
	for _, t := range r.drainingTargets() {
		st.Targets = append(st.Targets, t.status())
	}
	return st
}

func (r *Router) drainingTargets() []*target {
	r.mu.Lock()
	ts := make([]*target, 0, len(r.draining))
	for t := range r.draining {
		ts = append(ts, t)
	}
	r.mu.Unlock()
	sort.Slice(ts, func(i, j int) bool { return ts[i].name < ts[j].name })
	return ts
}

// metricsTargets are the targets the metrics show: the table's, the
// draining ones not re-added, then the router's own answers.
func (r *Router) metricsTargets() []metricsTarget {
	var ts []metricsTarget
	snap := r.snap.Load()
	inTable := map[string]bool{}
	for _, t := range snap.order {
		inTable[t.name] = true
		ts = append(ts, metricsTarget{m: t.metrics, stack: t.stack, healthy: t.healthy.Load(), inflight: t.inflight.Load()})
	}
	for _, t := range r.drainingTargets() {
		if !inTable[t.name] { // a re-added name shares its counters; show it once
			ts = append(ts, metricsTarget{m: t.metrics, stack: t.stack, healthy: t.healthy.Load(), draining: true, inflight: t.inflight.Load()})
		}
	}
	ts = append(ts, metricsTarget{m: r.local, isLocal: true})
	return ts
}

// WriteMetrics writes the Prometheus text exposition.
func (r *Router) WriteMetrics(w io.Writer) error {
	ts := r.metricsTargets()
	if err := writeMetrics(w, ts); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	return nil
}

// Metrics returns every target's counters by target name; "" holds the
// answers the router gave itself.
func (r *Router) Metrics() map[string]TargetStats {
	ts := r.metricsTargets()
	out := make(map[string]TargetStats, len(ts))
	for _, t := range ts {
		out[t.m.name] = t.stats()
	}
	return out
}

// stackAliases maps each stack named by a target to the target the header
// override reaches: the routed one, else the last in table order.
func stackAliases(s *spec, next *snapshot) map[string]*target {
	routed := make(map[string]bool, len(s.hosts)+len(s.production))
	for _, name := range s.hosts {
		routed[name] = true
	}
	for _, w := range s.production {
		if w.Weight > 0 {
			routed[w.Target] = true
		}
	}
	out := map[string]*target{}
	for _, ts := range s.targets {
		if ts.stack == "" {
			continue
		}
		if cur, ok := out[ts.stack]; ok && routed[cur.name] && !routed[ts.name] {
			continue
		}
		out[ts.stack] = next.targets[ts.name]
	}
	return out
}
