package router

import (
	"bufio"
	"io"
	"strconv"
	"sync/atomic"
	"time"
)

// rule says which part of the table chose the target.
type rule uint8

const (
	ruleHost rule = iota
	ruleProduction
	ruleHeader
	rulePort
	numRules
)

var ruleNames = [numRules]string{"host", "production", "header", "port"}

func (r rule) String() string { return ruleNames[r] }

// Status classes 1xx..5xx; index 0 is 1xx.
const numClasses = 5

// latencyBuckets are the histogram's upper bounds in seconds.
var latencyBuckets = [...]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

var latencyBucketNanos = func() (b [len(latencyBuckets)]int64) {
	for i, s := range latencyBuckets {
		b[i] = int64(s * float64(time.Second))
	}
	return b
}()

// targetMetrics are the pre-created counters of one target: the request
// path only does atomic adds.
type targetMetrics struct {
	name     string
	requests [numRules][numClasses]atomic.Uint64
	buckets  [len(latencyBuckets) + 1]atomic.Uint64 // last is +Inf
	sumNanos atomic.Uint64
}

func newTargetMetrics(name string) *targetMetrics { return &targetMetrics{name: name} }

// observe counts one finished request.
func (m *targetMetrics) observe(r rule, status int, d time.Duration) {
	class := status/100 - 1
	if class < 0 || class >= numClasses {
		class = 4
	}
	m.requests[r][class].Add(1)
	ns := int64(d)
	i := 0
	for i < len(latencyBucketNanos) && ns > latencyBucketNanos[i] {
		i++
	}
	m.buckets[i].Add(1)
	if ns > 0 {
		m.sumNanos.Add(uint64(ns))
	}
}

// metricsTarget is what writeMetrics needs to know about one target.
type metricsTarget struct {
	m                          *targetMetrics
	stack                      string
	healthy, draining, isLocal bool
	inflight                   int64
}

// writeMetrics writes the Prometheus text exposition for ts.
func writeMetrics(w io.Writer, ts []metricsTarget) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("# HELP slipway_router_requests_total Requests answered, by rule, target and status class. target=\"\" counts answers the router gave itself.\n# TYPE slipway_router_requests_total counter\n")
	for _, t := range ts {
		for r := rule(0); r < numRules; r++ {
			for c := 0; c < numClasses; c++ {
				n := t.m.requests[r][c].Load()
				if c == 0 && n == 0 {
					continue // 1xx only shows up when used (protocol upgrades)
				}
				writeSample(bw, "slipway_router_requests_total", `rule="`+r.String()+`",target="`+t.m.name+`",code="`+strconv.Itoa(c+1)+`xx"`, float64(n))
			}
		}
	}
	bw.WriteString("# HELP slipway_router_request_duration_seconds Time from reading the request head to the end of the response.\n# TYPE slipway_router_request_duration_seconds histogram\n")
	for _, t := range ts {
		writeHistogram(bw, t.m)
	}
	bw.WriteString("# HELP slipway_router_target_healthy 1 when the target passes its health check.\n# TYPE slipway_router_target_healthy gauge\n")
	writeGauges(bw, ts, "slipway_router_target_healthy", func(t metricsTarget) float64 { return b2f(t.healthy) })
	bw.WriteString("# HELP slipway_router_target_draining 1 while a removed target finishes its in-flight requests.\n# TYPE slipway_router_target_draining gauge\n")
	writeGauges(bw, ts, "slipway_router_target_draining", func(t metricsTarget) float64 { return b2f(t.draining) })
	bw.WriteString("# HELP slipway_router_target_in_flight Requests in flight to the target.\n# TYPE slipway_router_target_in_flight gauge\n")
	writeGauges(bw, ts, "slipway_router_target_in_flight", func(t metricsTarget) float64 { return float64(t.inflight) })
	return bw.Flush()
}

func writeHistogram(bw *bufio.Writer, m *targetMetrics) {
	label := `target="` + m.name + `"`
	var cum uint64
	for i := range m.buckets {
		cum += m.buckets[i].Load()
		le := "+Inf"
		if i < len(latencyBuckets) {
			le = strconv.FormatFloat(latencyBuckets[i], 'g', -1, 64)
		}
		writeSample(bw, "slipway_router_request_duration_seconds_bucket", label+`,le="`+le+`"`, float64(cum))
	}
	writeSample(bw, "slipway_router_request_duration_seconds_sum", label, float64(m.sumNanos.Load())/1e9)
	writeSample(bw, "slipway_router_request_duration_seconds_count", label, float64(cum))
}

func writeGauges(bw *bufio.Writer, ts []metricsTarget, name string, v func(metricsTarget) float64) {
	for _, t := range ts {
		if t.isLocal {
			continue
		}
		writeSample(bw, name, `target="`+t.m.name+`"`, v(t))
	}
}

func writeSample(bw *bufio.Writer, name, labels string, v float64) {
	bw.WriteString(name)
	bw.WriteByte('{')
	bw.WriteString(labels)
	bw.WriteString("} ")
	bw.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	bw.WriteByte('\n')
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TargetStats is one target's counters in GET /metrics.json: the same
// numbers as the Prometheus text of GET /metrics, for Client.Metrics.
type TargetStats struct {
	// Stack is the target's stack (its Stack, else its name); empty for
	// the answers the router gave itself (target "").
	Stack string `json:"stack,omitempty"`
	// Requests counts answers by rule (host, production, header, port) and
	// status class ("2xx", "5xx", ...).
	Requests map[string]map[string]uint64 `json:"requests"`
	// Latency is the request duration histogram: cumulative counts per
	// upper bound in seconds (the last bound is +Inf, written as 0).
	Latency    []LatencyBucket `json:"latency"`
	LatencySum float64         `json:"latency_sum_seconds"`
	Count      uint64          `json:"count"`
	Healthy    bool            `json:"healthy"`
	Draining   bool            `json:"draining"`
	InFlight   int64           `json:"in_flight"`
}

// LatencyBucket is one cumulative histogram bucket.
type LatencyBucket struct {
	LE    float64 `json:"le"` // seconds; 0 means +Inf
	Count uint64  `json:"count"`
}

// Total is the number of answers of every rule in class ("5xx", ...).
func (s TargetStats) Total(class string) uint64 {
	var n uint64
	for _, byClass := range s.Requests {
		n += byClass[class]
	}
	return n
}

func (t metricsTarget) stats() TargetStats {
	st := TargetStats{Stack: t.stack, Requests: map[string]map[string]uint64{},
		Healthy: t.healthy, Draining: t.draining, InFlight: t.inflight}
	for r := rule(0); r < numRules; r++ {
		byClass := map[string]uint64{}
		for c := 0; c < numClasses; c++ {
			if n := t.m.requests[r][c].Load(); n > 0 {
				byClass[strconv.Itoa(c+1)+"xx"] = n
			}
		}
		st.Requests[r.String()] = byClass
	}
	var cum uint64
	for i := range t.m.buckets {
		cum += t.m.buckets[i].Load()
		le := 0.0
		if i < len(latencyBuckets) {
			le = latencyBuckets[i]
		}
		st.Latency = append(st.Latency, LatencyBucket{LE: le, Count: cum})
	}
	st.Count = cum
	st.LatencySum = float64(t.m.sumNanos.Load()) / 1e9
	return st
}
