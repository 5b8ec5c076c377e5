package routerbench

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what one wrk run measured.
type wrkResult struct {
	requests int64
	rps      float64
	p50, p99 time.Duration
	errors   string // socket errors or non-2xx answers, empty when clean
}

// runWrk runs wrk --latency against url and parses its report.
func runWrk(ctx context.Context, opts Options, url string, d time.Duration) (wrkResult, error) {
	args := []string{
		"-t" + strconv.Itoa(opts.Threads), "-c" + strconv.Itoa(opts.Connections),
		"-d" + strconv.Itoa(int(d.Seconds())) + "s", "--timeout", "5s", "--latency", url,
	}
	out, err := exec.CommandContext(ctx, "wrk", args...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("run wrk %s: %w: %s", strings.Join(args, " "), err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return wrkResult{}, fmt.Errorf("run wrk against %s: %w", url, err)
	}
	return r, nil
}

// parseWrk reads wrk's --latency report.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	var errs []error
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "50%":
			r.p50, errs = parseLatency(f[1], errs)
		case len(f) == 2 && f[0] == "99%":
			r.p99, errs = parseLatency(f[1], errs)
		case len(f) == 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			r.rps, errs = v, append(errs, err)
		case len(f) > 3 && f[1] == "requests" && f[2] == "in":
			v, err := strconv.ParseInt(f[0], 10, 64)
			r.requests, errs = v, append(errs, err)
		case strings.HasPrefix(strings.TrimSpace(line), "Socket errors:"),
			strings.HasPrefix(strings.TrimSpace(line), "Non-2xx or 3xx responses:"):
			r.errors = strings.TrimSpace(r.errors + " " + strings.TrimSpace(line))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return r, fmt.Errorf("parse wrk output: %w", err)
	}
	if r.rps == 0 || r.requests == 0 || r.p99 == 0 {
		return r, fmt.Errorf("parse wrk output: no requests/sec, request count or latency distribution in:\n%s", out)
	}
	return r, nil
}

// parseLatency parses wrk's "812.00us", "1.58ms" or "2.01s".
func parseLatency(s string, errs []error) (time.Duration, []error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, append(errs, fmt.Errorf("latency %q: %w", s, err))
	}
	return d, errs
}
