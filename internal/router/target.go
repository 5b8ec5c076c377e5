package router

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"
)

// target is the running state of one table target. A target kept across
// table replacements (same name and URL) is the same *target, so it keeps its
// health state, its connection pool and its metrics.
type target struct {
	name, url, addr string
	stack           string // the table's Stack, else the name
	transport       *http.Transport
	proxy           *httputil.ReverseProxy
	metrics         *targetMetrics
	// cutCtx is cancelled at the drain deadline (cut), when every
	// connection to the target in conns is closed, which fails the requests
	// still in flight on them.
	cutCtx    context.Context
	cancelCut context.CancelFunc
	conns     connSet

	added    time.Time // when the router first had it: its health check grace starts
	healthy  atomic.Bool
	inflight atomic.Int64
	draining atomic.Bool

	mu            sync.Mutex // guards the fields below
	hc            healthConfig
	gen           int // health checker generation; older checkers' results are ignored
	successes     int
	failures      int
	lastErr       string
	drainDeadline time.Time
	stopHealth    context.CancelFunc
}

func newTarget(ts targetSpec, m *targetMetrics) *target {
	t := &target{name: ts.name, url: ts.url, addr: ts.addr, stack: ts.stack, metrics: m, hc: ts.health, added: time.Now()}
	if t.stack == "" {
		t.stack = ts.name
	}
	t.cutCtx, t.cancelCut = context.WithCancel(context.Background())
	return t
}

// cut ends every request still in flight to t: those waiting for an answer
// get 502 (proxyError sees cutCtx done), streamed answers stop.
func (t *target) cut() {
	t.cancelCut()
	t.conns.closeAll()
}

// acquire counts a request in flight unless the target is draining, in which
// case the caller must route again with the current table. Counting first and
// checking second pairs with drain, which marks first and counts second, so
// that no request slips past a finished drain.
func (t *target) acquire() bool {
	t.inflight.Add(1)
	if t.draining.Load() {
		t.inflight.Add(-1)
		return false
	}
	return true
}

func (t *target) release() { t.inflight.Add(-1) }

// startHealth (re)starts the health checker with hc; the target keeps its
// current health until the new checker decides otherwise.
func (t *target) startHealth(hc healthConfig, client *http.Client, log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	t.mu.Lock()
	if t.stopHealth != nil {
		t.stopHealth()
	}
	t.hc = hc
	t.gen++
	gen := t.gen
	t.successes, t.failures = 0, 0
	t.stopHealth = cancel
	t.mu.Unlock()
	go t.healthLoop(ctx, gen, hc, client, log)
}

func (t *target) stopHealthChecks() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopHealth != nil {
		t.stopHealth()
		t.stopHealth = nil
	}
	t.gen++
}

func (t *target) healthLoop(ctx context.Context, gen int, hc healthConfig, client *http.Client, log *slog.Logger) {
	tick := time.NewTicker(hc.interval)
	defer tick.Stop()
	for {
		err := t.check(ctx, hc, client)
		if ctx.Err() != nil {
			return
		}
		t.record(gen, err, log)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// check runs one health check: any status from 200 to 399 is healthy.
func (t *target) check(ctx context.Context, hc healthConfig, client *http.Client) error {
	ctx, cancel := context.WithTimeout(ctx, hc.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.addr+hc.path, nil)
	if err != nil {
		return fmt.Errorf("build health check request: %w", err)
	}
	req.Header.Set("User-Agent", "slipway-router-health")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", hc.path, err)
	}
	_, copyErr := io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	closeErr := resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return fmt.Errorf("GET %s: status %d", hc.path, resp.StatusCode)
	}
	if copyErr != nil {
		return fmt.Errorf("read health check body: %w", copyErr)
	}
	if closeErr != nil {
		return fmt.Errorf("close health check body: %w", closeErr)
	}
	return nil
}

// record applies one check result with the thresholds.
func (t *target) record(gen int, err error, log *slog.Logger) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if gen != t.gen {
		return
	}
	was := t.healthy.Load()
	if err == nil {
		t.successes++
		t.failures = 0
		t.lastErr = ""
		if !was && t.successes >= t.hc.healthy {
			t.healthy.Store(true)
			log.Info("target healthy", "target", t.name, "url", t.url)
		}
		return
	}
	if t.hc.grace > 0 && time.Since(t.added) < t.hc.grace {
		t.lastErr = err.Error() + " (within its health check grace: not counted)"
		return
	}
	t.failures++
	t.successes = 0
	t.lastErr = err.Error()
	if was && t.failures >= t.hc.unhealthy {
		t.healthy.Store(false)
		log.Warn("target unhealthy", "target", t.name, "url", t.url, "error", t.lastErr)
	}
}

// TargetStatus is one target in GET /status.
type TargetStatus struct {
	Name      string `json:"name"`
	URL       string `json:"url"`
	Healthy   bool   `json:"healthy"`
	LastError string `json:"last_error,omitempty"`
	InFlight  int64  `json:"in_flight"`
	Draining  bool   `json:"draining"`
	// DrainDeadline is when a draining target's remaining requests are cut.
	DrainDeadline *time.Time `json:"drain_deadline,omitempty"`
}

// Status is the body of GET /status: the table's targets in table order,
// then the targets still draining.
type Status struct {
	Targets []TargetStatus `json:"targets"`
}

func (t *target) status() TargetStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := TargetStatus{
		Name: t.name, URL: t.url, Healthy: t.healthy.Load(), LastError: t.lastErr,
		InFlight: t.inflight.Load(), Draining: t.draining.Load(),
	}
	if st.Draining {
		d := t.drainDeadline
		st.DrainDeadline = &d
	}
	return st
}
