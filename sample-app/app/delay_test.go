package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// APP_DELAY makes a release slow for a canary's latency check to catch:
// every page, /version and /slow answer that much later, the health check
// at once, so the stack stays healthy while it is slow.
func TestAppDelaySlowsEveryRequestButTheHealthCheck(t *testing.T) {
	cfg, err := LoadConfig(func(k string) string { return map[string]string{"APP_DELAY": "150ms"}[k] }, nil)
	if err != nil || cfg.Delay != 150*time.Millisecond {
		t.Fatalf("APP_DELAY=150ms: %+v %v", cfg, err)
	}
	srv := httptest.NewServer(New(cfg, nil))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		path string
		slow bool
	}{
		{"/", true},
		{"/version", true},
		{"/slow?ms=0", true},
		{"/healthz", false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			start := time.Now()
			resp, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			if err := resp.Body.Close(); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s answered %d", tc.path, resp.StatusCode)
			}
			switch {
			case tc.slow && took < 150*time.Millisecond:
				t.Fatalf("GET %s answered after %s, want at least APP_DELAY's 150ms", tc.path, took)
			case !tc.slow && took >= 150*time.Millisecond:
				t.Fatalf("GET %s answered after %s: the health check must not wait for APP_DELAY", tc.path, took)
			}
		})
	}
}

func TestAppDelayMustBeABoundedDuration(t *testing.T) {
	for _, v := range []string{"-1s", "200", "a while", "11s"} {
		env := map[string]string{"APP_DELAY": v}
		if _, err := LoadConfig(func(k string) string { return env[k] }, nil); err == nil || !strings.Contains(err.Error(), "APP_DELAY") {
			t.Errorf("APP_DELAY=%s: err = %v, want one naming the variable", v, err)
		}
	}
}

// A client that gives up does not keep the delayed request running.
func TestADelayedRequestEndsWhenItsClientGoesAway(t *testing.T) {
	a := New(Config{Delay: 5 * time.Second}, nil)
	req := httptest.NewRequest(http.MethodGet, "/version", nil)
	ctx, cancel := context.WithCancel(req.Context())
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { a.ServeHTTP(rec, req.WithContext(ctx)); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("the delayed request went on after its client went away")
	}
}
