package routerbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// proc is a process the benchmark started; stop ends it.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
}

// startProc starts bin with args; its output is kept for error messages.
func startProc(ctx context.Context, name, bin string, env []string, args ...string) (*proc, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, stderr: &out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// stop kills the process (it is ours) and waits for it.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill() // it may have exited on its own meanwhile
	<-p.done
}

// output returns the tail of what the process printed.
func (p *proc) output() string {
	s := p.stderr.String()
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return strings.TrimSpace(s)
}

// waitHTTP polls url until it answers, the process exits or ctx ends.
func waitHTTP(ctx context.Context, p *proc, url string) error {
	c := http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := c.Get(url); err == nil {
			_ = resp.Body.Close() // only reachability matters
			return nil
		}
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("wait for %s: it exited (%v): %s", p.name, err, p.output())
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", p.name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("wait for %s at %s: no answer in 10s: %s", p.name, url, p.output())
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("find free port: %w", err)
	}
	return addr, nil
}

// buildBinaries builds the router and the backend into dir unless opts
// names prebuilt ones.
func buildBinaries(ctx context.Context, opts *Options, dir string) error {
	if opts.RouterBin != "" && opts.BackendBin != "" && opts.StockBin != "" {
		return nil
	}
	mod := opts.ModuleDir
	if mod == "" {
		out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
		if err != nil {
			return fmt.Errorf("find module root (go env GOMOD): %w", err)
		}
		gomod := strings.TrimSpace(string(out))
		if gomod == "" || gomod == os.DevNull {
			return errors.New("find module root: not inside the slipway module; set Options.ModuleDir")
		}
		mod = filepath.Dir(gomod)
	}
	builds := []struct {
		bin       *string
		pkg, name string
	}{
		{&opts.RouterBin, "./cmd/slipway-router", "router"},
		{&opts.BackendBin, "./internal/routerbench/backend", "backend"},
		{&opts.StockBin, "./internal/routerbench/stockproxy", "stockproxy"},
	}
	for _, b := range builds {
		if *b.bin != "" {
			continue
		}
		out := filepath.Join(dir, b.name)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, b.pkg)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %w: %s", b.pkg, err, msg)
		}
		*b.bin = out
	}
	return nil
}

// haproxyConfig is the minimal HAProxy setup compared against: HTTP mode,
// one backend server, keep-alive on both sides, two threads, no logging.
func haproxyConfig(listen, backend string) string {
	return `global
  nbthread 2
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend bench
  bind ` + listen + `
  default_backend app
backend app
  server app ` + backend + `
`
}

// cpuTicks returns utime+stime of pid in clock ticks, from /proc/<pid>/stat.
func cpuTicks(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	return parseStatTicks(string(b))
}

func parseStatTicks(stat string) (uint64, error) {
	i := strings.LastIndexByte(stat, ')') // the command name may hold spaces
	if i < 0 {
		return 0, errors.New("parse /proc stat: no command name")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, errors.New("parse /proc stat: too few fields")
	}
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("parse /proc stat: %w", err)
	}
	return u + s, nil
}

// clockTicks is USER_HZ, 100 on every Linux the project runs on.
const clockTicks = 100

// memKB returns VmHWM (peak) and VmRSS of pid in kB.
func memKB(pid int) (hwm, rss int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, fmt.Errorf("read memory: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64) // other lines do not parse
		switch k {
		case "VmHWM":
			hwm = n
		case "VmRSS":
			rss = n
		}
	}
	return hwm, rss, nil
}
