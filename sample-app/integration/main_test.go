package integration

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/sample-app/app"
)

// target is the environment under test, read once by TestMain.
type target struct {
	baseURL      string
	host         string // Host header, if set
	expectCommit string
	expectStack  string
	stackHeader  string // X-Slipway-Stack value, if set
	production   bool   // SLIPWAY_ENV=production: production's data, read only
}

// The build the in-process app reports when no environment is given.
const (
	inProcessCommit = "0123456789abcdef0123456789abcdef01234567"
	inProcessStack  = "in-process"
)

var env target

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	env = target{
		baseURL:      strings.TrimRight(os.Getenv("SLIPWAY_BASE_URL"), "/"),
		host:         os.Getenv("SLIPWAY_HOST"),
		expectCommit: os.Getenv("SLIPWAY_EXPECT_COMMIT"),
		expectStack:  os.Getenv("SLIPWAY_EXPECT_STACK"),
		stackHeader:  os.Getenv("SLIPWAY_STACK_HEADER"),
		production:   os.Getenv("SLIPWAY_ENV") == "production",
	}
	if env.baseURL == "" {
		stop, err := startInProcess()
		if err != nil {
			fmt.Fprintf(os.Stderr, "integration: start the in-process sample app: %v\n", err)
			return 1
		}
		defer stop()
		fmt.Printf("integration: SLIPWAY_BASE_URL is unset; testing the in-process sample app at %s\n", env.baseURL)
	} else if err := checkBaseURL(env.baseURL); err != nil {
		fmt.Fprintf(os.Stderr, "integration: %v\n", err)
		return 1
	}
	fmt.Printf("integration: target %s host=%q stack-header=%q expect-commit=%q expect-stack=%q\n",
		env.baseURL, env.host, env.stackHeader, env.expectCommit, env.expectStack)
	return m.Run()
}

func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("SLIPWAY_BASE_URL=%q is not an http(s) URL with a host; set it like http://pr-42.app.localhost:8080", raw)
	}
	return nil
}

// startInProcess serves the sample app on 127.0.0.1 with a known build and
// points env at it. Like the router, it answers only requests that carry the
// expected Host and X-Slipway-Stack headers, so the code that sends them is
// checked too.
func startInProcess() (stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	env = target{
		baseURL:      "http://" + ln.Addr().String(),
		host:         "pr-0.app.localhost",
		expectCommit: inProcessCommit,
		expectStack:  inProcessStack,
		stackHeader:  inProcessStack,
	}
	cfg := app.Config{Message: "Integration test", Stack: inProcessStack,
		Version: "itest", Commit: inProcessCommit}
	srv := &http.Server{
		Handler:           routeLikeTheRouter(app.New(cfg, nil), env.host, env.stackHeader),
		ReadHeaderTimeout: 5 * time.Second,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	return func() {
		if err := srv.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "integration: stop the in-process sample app: %v\n", err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "integration: in-process sample app: %v\n", err)
		}
	}, nil
}

// routeLikeTheRouter passes on only requests for host and stack, answering
// others 421 Misdirected Request.
func routeLikeTheRouter(next http.Handler, host, stack string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != host || r.Header.Get("X-Slipway-Stack") != stack {
			http.Error(w, fmt.Sprintf("no route for Host %q, X-Slipway-Stack %q", r.Host, r.Header.Get("X-Slipway-Stack")),
				http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
