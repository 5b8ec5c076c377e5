package routerbench

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"
)

// Goals the router is held to (issue 7), measured side by side in one run.
const (
	goalVsStock   = 1.2              // router rps / stock ReverseProxy rps, at least
	goalVsHAProxy = 0.5              // router rps / HAProxy rps, at least
	goalP99Added  = time.Millisecond // router p99 - HAProxy p99, at most
	goalRSSMB     = 30.0             // router peak RSS, at most
)

// summary is the median of one server's samples.
type summary struct {
	rps                 float64
	p50, p99            time.Duration
	cpuPerReq           time.Duration
	hwmMB               float64
	fixedP50, fixedP99  time.Duration
	fixedMax, fixedCPU  time.Duration
	fixedFailed, fixedN int
}

func summarise(ss []sample) summary {
	med := func(f func(sample) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		sort.Float64s(v)
		if n := len(v); n%2 == 0 {
			return (v[n/2-1] + v[n/2]) / 2
		}
		return v[len(v)/2]
	}
	medDur := func(f func(sample) time.Duration) time.Duration {
		return time.Duration(med(func(s sample) float64 { return float64(f(s)) }))
	}
	var hwm int64
	var failed, sent int
	for _, s := range ss {
		hwm = max(hwm, s.hwmKB)
		failed += s.open.failed
		sent += s.open.sent
	}
	return summary{
		rps:         med(func(s sample) float64 { return s.wrk.rps }),
		p50:         medDur(func(s sample) time.Duration { return s.wrk.p50 }),
		p99:         medDur(func(s sample) time.Duration { return s.wrk.p99 }),
		cpuPerReq:   medDur(func(s sample) time.Duration { return s.cpuPerReq }),
		hwmMB:       float64(hwm) / 1024,
		fixedP50:    medDur(func(s sample) time.Duration { return s.open.p50 }),
		fixedP99:    medDur(func(s sample) time.Duration { return s.open.p99 }),
		fixedMax:    medDur(func(s sample) time.Duration { return s.open.max }),
		fixedCPU:    medDur(func(s sample) time.Duration { return s.fixedCPUPerReq }),
		fixedFailed: failed,
		fixedN:      sent,
	}
}

// report prints the medians, the ratios and the goals.
func report(out io.Writer, opts Options, res map[string][]sample) error {
	names := []string{"direct", "router", "stock", "haproxy"}
	sum := map[string]summary{}
	for _, n := range names {
		if len(res[n]) == 0 {
			return fmt.Errorf("report: no samples for %s", n)
		}
		sum[n] = summarise(res[n])
	}
	d, r, st, h := sum["direct"], sum["router"], sum["stock"], sum["haproxy"]
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(out, "%d interleaved rounds, medians (loopback, %s)\n", opts.Rounds, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(out, "saturation: wrk -t%d -c%d -d%s --latency (closed loop: p99 here mostly says %d connections / throughput)\n",
		opts.Threads, opts.Connections, opts.Duration, opts.Connections)
	fmt.Fprintf(out, "fixed rate: %d requests/s for %s over %d connections (open loop, latency from when each request was due)\n\n",
		opts.FixedRate, opts.FixedDuration, opts.Connections)
	fmt.Fprintln(tw, "\tsaturation\t\t\t\t\tfixed rate\t\t\t\t\t")
	fmt.Fprintln(tw, "server\trequests/s\tp50\tp99\tCPU/request\tpeak RSS\tp50\tp99\tmax\tCPU/request\tfailed\t")
	for _, n := range names {
		s := sum[n]
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%.1f MB\t%s\t%s\t%s\t%s\t%d/%d\t\n", n, s.rps, fmtDur(s.p50), fmtDur(s.p99),
			fmtDur(s.cpuPerReq), s.hwmMB, fmtDur(s.fixedP50), fmtDur(s.fixedP99), fmtDur(s.fixedMax), fmtDur(s.fixedCPU), s.fixedFailed, s.fixedN)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	vsS, vsH := r.rps/st.rps, r.rps/h.rps
	added, fixedAdded := r.p99-h.p99, r.fixedP99-h.fixedP99
	fmt.Fprintf(out, "\nrouter/direct rps %.2f (stock/direct %.2f, haproxy/direct %.2f); CPU/request router %s, stock %s, haproxy %s\n",
		r.rps/d.rps, st.rps/d.rps, h.rps/d.rps, fmtDur(r.cpuPerReq), fmtDur(st.cpuPerReq), fmtDur(h.cpuPerReq))
	fmt.Fprintln(out, "goals (issue 7):")
	tw = tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\trouter/stock rps\t%.2f\tgoal >= %.1f\t\n", mark(vsS >= goalVsStock), vsS, goalVsStock)
	fmt.Fprintf(tw, "%s\trouter/haproxy rps\t%.2f\tgoal >= %.1f\t(stock/haproxy %.2f)\n", mark(vsH >= goalVsHAProxy), vsH, goalVsHAProxy, st.rps/h.rps)
	fmt.Fprintf(tw, "%s\tp99 above haproxy, saturation\t%s\tgoal <= %s\t\n", mark(added <= goalP99Added), fmtSigned(added), fmtDur(goalP99Added))
	fmt.Fprintf(tw, "%s\tp99 above haproxy, %d requests/s\t%s\tgoal <= %s\t(the same goal at a rate both carry)\n",
		mark(fixedAdded <= goalP99Added && r.fixedFailed == 0), opts.FixedRate, fmtSigned(fixedAdded), fmtDur(goalP99Added))
	fmt.Fprintf(tw, "%s\trouter peak RSS\t%.1f MB\tgoal <= %.0f MB\t\n", mark(r.hwmMB <= goalRSSMB), r.hwmMB, goalRSSMB)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func fmtSigned(d time.Duration) string {
	if d < 0 {
		return fmtDur(d)
	}
	return "+" + fmtDur(d)
}

func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + fmtDur(-d)
	case d < time.Millisecond:
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	default:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
}
