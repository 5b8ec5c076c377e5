// Package routerbench measures the local router against the direct backend,
// a stock httputil.ReverseProxy (default http.Server and http.Transport)
// and HAProxy on loopback: the same fast backend behind each, wrk as the
// load, interleaved rounds and medians, so that one noisy moment on a small
// machine does not decide the result.
package routerbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/slipway/slipway/internal/router"
)

// Options size a benchmark run. Zero values take the defaults, which match
// wrk -t2 -c64 -d10s, then 1000 requests/s for 5s, three rounds.
type Options struct {
	Threads     int           // wrk -t (default 2)
	Connections int           // wrk -c (default 64)
	Duration    time.Duration // wrk -d per measurement, whole seconds (default 10s)
	Warmup      time.Duration // one unmeasured run per server first (default 2s)
	Rounds      int           // rounds of direct, router, stock, haproxy (default 3)
	// MaxTotal bounds the whole run, builds included (default 7m); a plan
	// that cannot fit is refused before anything starts.
	MaxTotal time.Duration
	// ModuleDir is the slipway module root to build from (default: found
	// with go env GOMOD).
	ModuleDir string
	// RouterBin, BackendBin and StockBin are prebuilt binaries; empty
	// builds them.
	RouterBin, BackendBin, StockBin string
	// CPUProfile, if set, receives a CPU profile of the router taken during
	// its first measured run.
	CPUProfile string
	// RouterGOMAXPROCS sets the router's GOMAXPROCS (0: Go's default).
	RouterGOMAXPROCS int
	// FixedRate is the offered load of the open-loop run that follows each
	// saturation run, in requests/s (default 1000: a third of what the
	// slowest server compared, the stock proxy, carries here on a quiet
	// machine, so that all four carry it even when the machine is shared);
	// FixedDuration is its length (default 5s).
	FixedRate     int
	FixedDuration time.Duration
}

func (o *Options) defaults() {
	if o.Threads <= 0 {
		o.Threads = 2
	}
	if o.Connections <= 0 {
		o.Connections = 64
	}
	if o.Duration < time.Second {
		o.Duration = 10 * time.Second
	}
	if o.Warmup < time.Second {
		o.Warmup = 2 * time.Second
	}
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	if o.FixedRate <= 0 {
		o.FixedRate = 1000
	}
	if o.FixedDuration < time.Second {
		o.FixedDuration = 5 * time.Second
	}
	if o.MaxTotal <= 0 {
		o.MaxTotal = 7 * time.Minute
	}
}

// planned is the time the runs take, with a margin for builds and start-up.
func (o *Options) planned() time.Duration {
	return time.Duration(o.Rounds)*4*(o.Duration+o.FixedDuration+2*time.Second) + 4*(o.Warmup+time.Second) + 60*time.Second
}

// server is one thing under load.
type server struct {
	name  string
	url   string
	admin string // the router's admin address, for profiles
	token string // the router's admin token
	proc  *proc  // the process whose CPU and memory are reported
}

// Run benchmarks direct, router, stock and haproxy on loopback and writes the
// report to out.
func Run(ctx context.Context, opts Options, out io.Writer) error {
	opts.defaults()
	for _, bin := range []string{"haproxy", "wrk"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("find %s: %w: the router benchmark needs HAProxy and wrk: apt-get install haproxy wrk", bin, err)
		}
	}
	if p := opts.planned(); p > opts.MaxTotal {
		return fmt.Errorf("plan benchmark: %d rounds of %s need about %s, more than MaxTotal %s: lower Rounds or Duration", opts.Rounds, opts.Duration, p.Round(time.Second), opts.MaxTotal)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.MaxTotal)
	defer cancel()
	dir, err := os.MkdirTemp("", "routerbench-")
	if err != nil {
		return fmt.Errorf("create work dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }() // temp files only
	if err := buildBinaries(ctx, &opts, dir); err != nil {
		return err
	}
	servers, stop, err := startServers(ctx, opts, dir)
	defer stop()
	if err != nil {
		return err
	}
	res, err := measure(ctx, opts, servers)
	if err != nil {
		return err
	}
	return report(out, opts, res)
}

// startServers starts the backend, the router and HAProxy in front of it.
func startServers(ctx context.Context, opts Options, dir string) ([]server, func(), error) {
	var procs []*proc
	stop := func() {
		for _, p := range procs {
			p.stop()
		}
	}
	addrs := make([]string, 5) // backend, router, admin, haproxy, stock
	for i := range addrs {
		a, err := freeAddr()
		if err != nil {
			return nil, stop, err
		}
		addrs[i] = a
	}
	start := func(name, bin string, env []string, args ...string) (*proc, error) {
		p, err := startProc(ctx, name, bin, env, args...)
		if err == nil {
			procs = append(procs, p)
		}
		return p, err
	}
	be, err := start("backend", opts.BackendBin, nil, "-listen", addrs[0])
	if err == nil {
		err = waitHTTP(ctx, be, "http://"+addrs[0]+"/")
	}
	if err != nil {
		return nil, stop, err
	}
	token, err := benchToken()
	if err != nil {
		return nil, stop, err
	}
	env := []string{"SLIPWAY_ROUTER_TOKEN=" + token}
	if opts.RouterGOMAXPROCS > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(opts.RouterGOMAXPROCS))
	}
	rt, err := start("router", opts.RouterBin, env, "-listen", addrs[1], "-admin", addrs[2],
		"-state", filepath.Join(dir, "state"), "-access-log=false", "-pprof="+strconv.FormatBool(opts.CPUProfile != ""))
	if err == nil {
		err = configureRouter(ctx, rt, addrs[2], token, "http://"+addrs[0])
	}
	if err != nil {
		return nil, stop, err
	}
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(haproxyConfig(addrs[3], addrs[0])), 0o644); err != nil {
		return nil, stop, fmt.Errorf("write haproxy config: %w", err)
	}
	hp, err := start("haproxy", "haproxy", nil, "-f", cfg, "-db")
	if err == nil {
		err = waitHTTP(ctx, hp, "http://"+addrs[3]+"/")
	}
	if err != nil {
		return nil, stop, err
	}
	sp, err := start("stock", opts.StockBin, nil, "-listen", addrs[4], "-target", "http://"+addrs[0])
	if err == nil {
		err = waitHTTP(ctx, sp, "http://"+addrs[4]+"/")
	}
	if err != nil {
		return nil, stop, err
	}
	return []server{
		{name: "direct", url: "http://" + addrs[0] + "/", proc: be},
		{name: "router", url: "http://" + addrs[1] + "/", admin: addrs[2], token: token, proc: rt},
		{name: "stock", url: "http://" + addrs[4] + "/", proc: sp},
		{name: "haproxy", url: "http://" + addrs[3] + "/", proc: hp},
	}, stop, nil
}

// configureRouter puts a table with the backend as the whole production
// rule and waits for it to pass its health check.
func configureRouter(ctx context.Context, rt *proc, admin, token, backend string) error {
	if err := waitHTTP(ctx, rt, "http://"+admin+"/healthz"); err != nil {
		return err
	}
	c := &router.Client{BaseURL: "http://" + admin, Token: token, HTTP: &http.Client{Timeout: 5 * time.Second}}
	tb := router.Table{
		Targets:         []router.Target{{Name: "bench", URL: backend}},
		ProductionHosts: []string{"127.0.0.1"}, // wrk sends Host: 127.0.0.1:<port>
		Production:      []router.Weighted{{Target: "bench", Weight: 100}},
		Health:          router.HealthCheck{Path: "/", Interval: "1s", HealthyThreshold: 1},
	}
	if err := c.Replace(ctx, tb); err != nil {
		return fmt.Errorf("configure router: %w", err)
	}
	if err := c.WaitHealthy(ctx, "bench", 10*time.Second); err != nil {
		return fmt.Errorf("configure router: %w", err)
	}
	return nil
}

// sample is one measured run: saturation, then the fixed rate.
type sample struct {
	wrk       wrkResult
	open      openResult
	cpuPerReq time.Duration // of the server's process
	// fixedCPUPerReq is the server's CPU per request at the fixed rate.
	fixedCPUPerReq time.Duration
	hwmKB          int64
	rssAfterKB     int64
}

// measure warms every server up, then runs the interleaved rounds.
func measure(ctx context.Context, opts Options, servers []server) (map[string][]sample, error) {
	for _, s := range servers {
		if _, err := runWrk(ctx, opts, s.url, opts.Warmup); err != nil {
			return nil, fmt.Errorf("warm up %s: %w", s.name, err)
		}
	}
	res := map[string][]sample{}
	for round := 0; round < opts.Rounds; round++ {
		for _, s := range servers {
			prof := round == 0 && s.name == "router" && opts.CPUProfile != ""
			smp, err := measureOne(ctx, opts, s, prof)
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", round+1, s.name, err)
			}
			res[s.name] = append(res[s.name], smp)
		}
	}
	return res, nil
}

func measureOne(ctx context.Context, opts Options, s server, profile bool) (sample, error) {
	before, err := cpuTicks(s.proc.pid())
	if err != nil {
		return sample{}, err
	}
	profDone := make(chan error, 1)
	if profile {
		go func() { profDone <- fetchProfile(ctx, s, opts) }()
	} else {
		profDone <- nil
	}
	w, err := runWrk(ctx, opts, s.url, opts.Duration)
	if perr := <-profDone; err == nil && perr != nil {
		err = perr
	}
	if err != nil {
		return sample{}, err
	}
	if w.errors != "" {
		return sample{}, fmt.Errorf("wrk saw errors against %s: %s", s.name, w.errors)
	}
	after, err := cpuTicks(s.proc.pid())
	if err != nil {
		return sample{}, err
	}
	cpu := time.Duration(float64(after-before) / clockTicks / float64(w.requests) * float64(time.Second))
	open, err := openLoop(ctx, s.url, opts.FixedRate, opts.FixedDuration, opts.Connections)
	if err != nil {
		return sample{}, err
	}
	end, err := cpuTicks(s.proc.pid())
	if err != nil {
		return sample{}, err
	}
	fixedCPU := time.Duration(float64(end-after) / clockTicks / float64(open.sent) * float64(time.Second))
	hwm, rss, err := memKB(s.proc.pid())
	if err != nil {
		return sample{}, err
	}
	return sample{wrk: w, open: open, cpuPerReq: cpu, fixedCPUPerReq: fixedCPU, hwmKB: hwm, rssAfterKB: rss}, nil
}

// fetchProfile takes a CPU profile of the router over most of the run.
func fetchProfile(ctx context.Context, s server, opts Options) error {
	secs := max(1, int(opts.Duration.Seconds())-2)
	c := http.Client{Timeout: time.Duration(secs+10) * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.admin+"/debug/pprof/profile?seconds="+strconv.Itoa(secs), nil)
	if err != nil {
		return fmt.Errorf("fetch router profile: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("fetch router profile: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // read in full below
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch router profile: status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("fetch router profile: %w", err)
	}
	if err := os.WriteFile(opts.CPUProfile, b, 0o644); err != nil {
		return fmt.Errorf("write router profile: %w", err)
	}
	return nil
}

// benchToken is the admin token of the benchmark's router.
func benchToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("create router token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
