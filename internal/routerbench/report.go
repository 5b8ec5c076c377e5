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
	rps       float64
	p50, p99  time.Duration
	cpuPerReq time.Duration
	hwmMB     float64
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
	var hwm int64
	for _, s := range ss {
		hwm = max(hwm, s.hwmKB)
	}
	return summary{
		rps:       med(func(s sample) float64 { return s.wrk.rps }),
		p50:       time.Duration(med(func(s sample) float64 { return float64(s.wrk.p50) })),
		p99:       time.Duration(med(func(s sample) float64 { return float64(s.wrk.p99) })),
		cpuPerReq: time.Duration(med(func(s sample) float64 { return float64(s.cpuPerReq) })),
		hwmMB:     float64(hwm) / 1024,
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
	fmt.Fprintf(out, "wrk -t%d -c%d -d%s --latency, %d interleaved rounds, medians (loopback, %s)\n",
		opts.Threads, opts.Connections, opts.Duration, opts.Rounds, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintln(tw, "server\trequests/s\tp50\tp99\tCPU/request (server process)\tpeak RSS\t")
	for _, n := range names {
		s := sum[n]
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%.1f MB\t\n", n, s.rps, fmtDur(s.p50), fmtDur(s.p99), fmtDur(s.cpuPerReq), s.hwmMB)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	vsS, vsH, added := r.rps/st.rps, r.rps/h.rps, r.p99-h.p99
	fmt.Fprintf(out, "\nrouter/direct rps   %.2f   (stock/direct %.2f, haproxy/direct %.2f)\n", r.rps/d.rps, st.rps/d.rps, h.rps/d.rps)
	fmt.Fprintf(out, "router/stock rps    %.2f   goal >= %.1f  %s\n", vsS, goalVsStock, verdict(vsS >= goalVsStock))
	fmt.Fprintf(out, "router/haproxy rps  %.2f   goal >= %.1f  %s  (stock/haproxy %.2f)\n", vsH, goalVsHAProxy, verdict(vsH >= goalVsHAProxy), st.rps/h.rps)
	fmt.Fprintf(out, "p99 above haproxy   %s   goal <= %s  %s\n", fmtDur(added), fmtDur(goalP99Added), verdict(added <= goalP99Added))
	fmt.Fprintf(out, "router peak RSS     %.1f MB   goal <= %.0f MB  %s\n", r.hwmMB, goalRSSMB, verdict(r.hwmMB <= goalRSSMB))
	_, err := fmt.Fprintf(out, "router CPU/request  %s   (stock %s, haproxy %s)\n", fmtDur(r.cpuPerReq), fmtDur(st.cpuPerReq), fmtDur(h.cpuPerReq))
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
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
