package router

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client talks to a router's admin API.
type Client struct {
	// BaseURL is the admin listener, such as http://127.0.0.1:9000.
	BaseURL string
	// HTTP is the client to use; nil means http.DefaultClient.
	HTTP *http.Client
	// Token is the router's admin token, sent as "Authorization: Bearer".
	Token string
	// TokenFunc, when Token is empty, is asked for the token before each
	// request (the local provider reads it from the router container).
	TokenFunc func(ctx context.Context) (string, error)
}

// PutOptions qualify a table write.
type PutOptions struct {
	// IfMatch makes the write conditional on the table's ETag.
	IfMatch string
	// AllowEmpty lets the table remove every target.
	AllowEmpty bool
}

// Table returns the router's current table.
func (c *Client) Table(ctx context.Context) (Table, error) {
	t, _, err := c.TableVersion(ctx)
	return t, err
}

// TableVersion returns the current table and its ETag, for ReplaceIf.
func (c *Client) TableVersion(ctx context.Context) (Table, string, error) {
	var t Table
	h, err := c.do(ctx, http.MethodGet, "/table", nil, "", &t)
	if err != nil {
		return Table{}, "", fmt.Errorf("get router table: %w", err)
	}
	return t, h.Get("ETag"), nil
}

// Replace swaps in t. A table the router rejects returns a *TableError with
// the router's reasons; the running table is then unchanged.
func (c *Client) Replace(ctx context.Context, t Table) error { return c.ReplaceIf(ctx, t, "") }

// ReplaceIf swaps in t only if the table is still the one whose ETag is
// etag; otherwise it returns an error wrapping ErrConflict.
func (c *Client) ReplaceIf(ctx context.Context, t Table, etag string) error {
	return c.Put(ctx, t, PutOptions{IfMatch: etag})
}

// Put swaps in t as o says. A table that removes every target is refused
// unless o.AllowEmpty.
func (c *Client) Put(ctx context.Context, t Table, o PutOptions) error {
	body, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode router table: %w", err)
	}
	path := "/table"
	if o.AllowEmpty {
		path += "?" + AllowEmptyParam + "=true"
	}
	if _, err := c.do(ctx, http.MethodPut, path, body, o.IfMatch, nil); err != nil {
		return fmt.Errorf("replace router table: %w", err)
	}
	return nil
}

// Metrics returns every target's request counters and latency histogram
// by target name ("" holds the answers the router gave itself), from
// GET /metrics.json: the numbers of the Prometheus text at GET /metrics.
func (c *Client) Metrics(ctx context.Context) (map[string]TargetStats, error) {
	var m map[string]TargetStats
	if _, err := c.do(ctx, http.MethodGet, "/metrics.json", nil, "", &m); err != nil {
		return nil, fmt.Errorf("get router metrics: %w", err)
	}
	return m, nil
}

// Status returns the router's view of its targets.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	if _, err := c.do(ctx, http.MethodGet, "/status", nil, "", &st); err != nil {
		return Status{}, fmt.Errorf("get router status: %w", err)
	}
	return st, nil
}

// WaitHealthy polls the status until target is healthy, for at most
// timeout; the error then says what the last health check reported.
func (c *Client) WaitHealthy(ctx context.Context, target string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last := "not in the router table"
	for {
		st, err := c.Status(ctx)
		if err == nil {
			last = "not in the router table"
			for _, ts := range st.Targets {
				if ts.Name != target || ts.Draining {
					continue
				}
				if ts.Healthy {
					return nil
				}
				last = "unhealthy: " + ts.LastError
				if ts.LastError == "" {
					last = "no health check has passed enough times yet"
				}
			}
		} else if ctx.Err() == nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for target %q to become healthy (%s): %s: %w", target, timeout, last, ctx.Err())
		case <-tick.C:
		}
	}
}

// do sends one admin request and decodes a JSON answer into out.
func (c *Client) do(ctx context.Context, method, path string, body []byte, ifMatch string, out any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	token := c.Token
	if token == "" && c.TokenFunc != nil {
		if token, err = c.TokenFunc(ctx); err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }() // the body has been read; nothing to report
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxTableBytes))
	if err != nil {
		return nil, fmt.Errorf("read %s %s response: %w", method, path, err)
	}
	if resp.StatusCode == http.StatusPreconditionFailed {
		return resp.Header, ErrConflict
	}
	if resp.StatusCode != http.StatusOK {
		var eb errorBody
		if json.Unmarshal(b, &eb) == nil && len(eb.Errors) > 0 {
			if resp.StatusCode == http.StatusBadRequest {
				return resp.Header, &TableError{Problems: eb.Errors}
			}
			return resp.Header, fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, strings.Join(eb.Errors, "; "))
		}
		return resp.Header, fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, truncate(b))
	}
	if out == nil {
		return resp.Header, nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return resp.Header, fmt.Errorf("decode %s %s response: %w", method, path, err)
	}
	return resp.Header, nil
}
