// Command slipway-router is the local stand-in for the shared AWS ALB: it
// serves traffic on -listen by the routing table that the local provider
// puts on the admin API (-admin), and keeps that table in -state.
//
// With -admin-net (the local provider's router), the admin API listens only
// on the router's address in that subnet, its admin network, which no app
// container joins, and on 127.0.0.1 inside its own container.
//
// With -stack-ports it also listens on each port of that range, on the
// host of -listen: every request on one goes to the stack the table's
// port rule names (a URL per stack that needs no DNS and no header).
//
// Every flag can also be set through the environment: SLIPWAY_ROUTER_LISTEN,
// SLIPWAY_ROUTER_ADMIN, SLIPWAY_ROUTER_ADMIN_NET, SLIPWAY_ROUTER_STATE,
// SLIPWAY_ROUTER_STACK_PORTS, SLIPWAY_ROUTER_ACCESS_LOG,
// SLIPWAY_ROUTER_PPROF, SLIPWAY_ROUTER_CLIENT_IDLE. Flags win.
//
// The admin token comes only from the environment (SLIPWAY_ROUTER_TOKEN),
// so that it shows in no process list; the router refuses to start
// without one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/slipway/slipway/internal/router"
)

// defaultAdmin is where the admin API listens without -admin: on this
// host's loopback only. A router in a container needs -admin :9000 (or
// -admin-net) for a published port to reach it.
const defaultAdmin = "127.0.0.1:9000"

// config is the command line.
type config struct {
	listen, admin, state string
	adminNet             string
	stackPorts           string
	accessLog, pprof     bool
	healthcheck          bool
	stopTimeout          time.Duration
	clientIdle           time.Duration
	token                string
}

func main() {
	cfg := parseFlags(os.Args[1:])
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if cfg.healthcheck {
		if err := healthcheck(cfg.admin); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("router stopped", "error", err.Error())
		os.Exit(1)
	}
}

func parseFlags(args []string) config {
	fs := flag.NewFlagSet("slipway-router", flag.ExitOnError)
	var cfg config
	fs.StringVar(&cfg.listen, "listen", env("SLIPWAY_ROUTER_LISTEN", ":8080"), "traffic listener address")
	fs.StringVar(&cfg.admin, "admin", env("SLIPWAY_ROUTER_ADMIN", defaultAdmin), "admin API listener address (in a container, \":9000\" published on 127.0.0.1 only)")
	fs.StringVar(&cfg.adminNet, "admin-net", env("SLIPWAY_ROUTER_ADMIN_NET", ""), "subnet of the admin network: serve the admin API only on this container's address there (and 127.0.0.1)")
	fs.StringVar(&cfg.stackPorts, "stack-ports", env("SLIPWAY_ROUTER_STACK_PORTS", ""), "range of stack ports to serve, such as 18100-18119, on the host of -listen: each routes to the stack the table's port rule names")
	fs.StringVar(&cfg.state, "state", env("SLIPWAY_ROUTER_STATE", "/var/lib/slipway-router"), "directory where the routing table is kept")
	fs.BoolVar(&cfg.accessLog, "access-log", envBool("SLIPWAY_ROUTER_ACCESS_LOG", true), "write one JSON line per request to stdout")
	fs.BoolVar(&cfg.pprof, "pprof", envBool("SLIPWAY_ROUTER_PPROF", false), "serve /debug/pprof/ on the admin listener")
	fs.BoolVar(&cfg.healthcheck, "healthcheck", false, "check the admin API of a running router and exit (for Docker HEALTHCHECK)")
	fs.DurationVar(&cfg.stopTimeout, "stop-timeout", 8*time.Second, "how long SIGTERM waits for requests in flight (below docker stop's 10s)")
	fs.DurationVar(&cfg.clientIdle, "client-idle", envDuration("SLIPWAY_ROUTER_CLIENT_IDLE", 60*time.Second), "keep-alive time of idle client connections")
	_ = fs.Parse(args) // ExitOnError: Parse exits on bad flags
	cfg.token = os.Getenv("SLIPWAY_ROUTER_TOKEN")
	return cfg
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func envDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(key)); err == nil && d > 0 {
		return d
	}
	return def
}

func envBool(key string, def bool) bool {
	if b, err := strconv.ParseBool(os.Getenv(key)); err == nil {
		return b
	}
	return def
}

// run serves until ctx is cancelled, then shuts down gracefully.
func run(ctx context.Context, cfg config, log *slog.Logger) error {
	if len(cfg.token) < 16 {
		return errors.New("start router: SLIPWAY_ROUTER_TOKEN must hold the admin token (16 characters or more): the local provider sets it")
	}
	tuneGC(ctx, log)
	opts := router.Options{StateDir: cfg.state, Log: log, AdminToken: cfg.token, ClientIdleTimeout: cfg.clientIdle}
	if cfg.accessLog {
		opts.AccessLog = slog.New(slog.NewJSONHandler(os.Stdout, nil))
	}
	r, err := router.New(opts)
	if err != nil {
		return fmt.Errorf("start router: %w", err)
	}
	trafficLn, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen for traffic: %w", err)
	}
	portLns, err := stackPortListeners(cfg)
	if err != nil {
		_ = trafficLn.Close() // exiting with the listen error
		return err
	}
	adminLns, err := adminListeners(ctx, cfg)
	if err != nil {
		closeAll(append(portLns, trafficLn))
		return fmt.Errorf("listen for admin: %w", err)
	}
	admin := r.AdminServer(adminHandler(r, cfg.pprof))
	errc := make(chan error, 1+len(portLns)+len(adminLns))
	go func() { errc <- r.Serve(trafficLn) }()
	for _, ln := range portLns {
		go func() { errc <- r.ServePort(ln) }()
	}
	addrs := make([]string, 0, len(adminLns))
	for _, ln := range adminLns {
		go func() { errc <- admin.Serve(ln) }()
		addrs = append(addrs, ln.Addr().String())
	}
	log.Info("router listening", "listen", trafficLn.Addr().String(), "admin", strings.Join(addrs, " "), "stack_ports", cfg.stackPorts, "state", cfg.state)
	select {
	case <-ctx.Done():
		log.Info("stopping: finishing requests in flight", "timeout", cfg.stopTimeout)
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.stopTimeout)
	defer cancel()
	rerr := r.Shutdown(sctx)
	aerr := admin.Shutdown(sctx)
	if err := errors.Join(rerr, aerr); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// stackPortListeners listens on every port of -stack-ports, on the host
// of -listen.
func stackPortListeners(cfg config) ([]net.Listener, error) {
	pr, err := router.ParsePortRange(cfg.stackPorts)
	if err != nil {
		return nil, fmt.Errorf("start router: -stack-ports: %w", err)
	}
	host, _, err := net.SplitHostPort(cfg.listen)
	if err != nil {
		return nil, fmt.Errorf("start router: parse -listen %q: %w", cfg.listen, err)
	}
	lns := make([]net.Listener, 0, pr.Len())
	for p := pr.First; pr.Contains(p); p++ {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			closeAll(lns)
			return nil, fmt.Errorf("listen on stack port %d (-stack-ports %s): %w", p, pr, err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// closeAll closes listeners a failed start opened.
func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		_ = ln.Close() // exiting with the error that made the start fail
	}
}

func adminHandler(r *router.Router, withPprof bool) http.Handler {
	h := r.AdminHandler()
	if !withPprof {
		return h
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return r.Guard(mux)
}

// healthcheck asks the admin API of the router on this host whether it runs.
func healthcheck(admin string) error {
	_, port, err := net.SplitHostPort(admin)
	if err != nil {
		return fmt.Errorf("parse admin address %q: %w", admin, err)
	}
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://127.0.0.1:" + port + "/healthz")
	if err != nil {
		return fmt.Errorf("check router health: %w", err)
	}
	if err := resp.Body.Close(); err != nil {
		return fmt.Errorf("check router health: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("check router health: status %d", resp.StatusCode)
	}
	return nil
}
