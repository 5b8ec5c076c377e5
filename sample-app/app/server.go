package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Run serves the app on ln until ctx ends, then shuts down gracefully:
// /healthz turns 503, the listener closes so new connections are refused,
// and requests already running get Config.ShutdownTimeout to finish. Run
// returns nil after a clean shutdown, and an error if serving failed or if
// the deadline passed with requests still running.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	return a.serve(ctx, ln, a)
}

// serve is Run with the handler as a parameter, so tests can add a slow
// route next to the real ones.
func (a *App) serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	a.log.Info("listening", "addr", ln.Addr().String(), "version", a.cfg.Version,
		"commit", a.cfg.Commit, "stack", a.cfg.Stack)

	select {
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	a.StartShutdown()
	a.log.Info("shutdown started: health check now 503, refusing new connections",
		"cause", context.Cause(ctx).Error(), "timeout", a.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		a.log.Error("shutdown deadline passed with requests still running; closing them",
			"timeout", a.cfg.ShutdownTimeout.String(), "err", err)
		if cerr := srv.Close(); cerr != nil {
			a.log.Error("close server", "err", cerr)
		}
		return fmt.Errorf("shut down within %s: %w", a.cfg.ShutdownTimeout, err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	}
	a.log.Info("shutdown complete")
	return nil
}

// Healthcheck asks the app listening on 127.0.0.1:port whether it is healthy.
// It backs the binary's -healthcheck flag, which a scratch image's
// HEALTHCHECK runs because there is no shell or curl in it.
func Healthcheck(ctx context.Context, port string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	url := "http://" + net.JoinHostPort("127.0.0.1", port) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("health check %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health check %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check %s: status %s", url, resp.Status)
	}
	return nil
}
