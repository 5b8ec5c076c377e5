package integration

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/localhost"
)

const (
	requestTimeout = 10 * time.Second
	attempts       = 4
	maxBody        = 1 << 20
)

// client reaches *.localhost on 127.0.0.1 (RFC 6761), so the URL `demo`
// prints works where DNS does not resolve it.
var client = localhost.Client(requestTimeout)

func hostNote() string {
	if env.host == "" {
		return ""
	}
	return " with Host " + env.host
}

// get sends GET path to the target with its Host and stack headers and
// returns the response with its body read. Connection errors (refused,
// reset, DNS not ready) are retried a few times with backoff; any HTTP
// answer, good or bad, is returned as is for the test to judge.
func get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	url := env.baseURL + path
	backoff := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		resp, body, err := getOnce(t.Context(), url)
		if err == nil {
			return resp, body
		}
		if !isConnectionError(err) || attempt == attempts {
			// One line, so a summary showing a test's first failure line shows this.
			t.Fatalf("%v%s (attempt %d of %d)", err, hostNote(), attempt, attempts)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%v%s (cancelled while waiting to retry)", err, hostNote())
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

func getOnce(ctx context.Context, url string) (*http.Response, string, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	if env.host != "" {
		req.Host = env.host
	}
	if env.stackHeader != "" {
		req.Header.Set("X-Slipway-Stack", env.stackHeader)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, "", err
	}
	return resp, string(body), nil
}

// isConnectionError reports whether err means no HTTP answer arrived because
// the connection failed, which is worth another try while an environment
// settles. Timeouts of an accepted request are not retried.
func isConnectionError(err error) bool {
	var op *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &op) && op.Op == "dial":
		return true
	}
	return false
}
