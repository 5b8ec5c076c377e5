package routerbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// openResult is what one fixed-rate (open-loop) run measured.
type openResult struct {
	sent, failed  int
	p50, p99, max time.Duration
}

// openLoop sends GET url at a fixed rate for d over at most conns
// keep-alive connections, whatever the answers' pace, and measures each
// request from the moment it was due, not from when it went out: a server
// that falls behind is charged for the queue it causes (no coordinated
// omission). The run is bounded: rate*d requests, each with a 5 s timeout,
// at most maxInFlight at a time.
func openLoop(ctx context.Context, url string, rate int, d time.Duration, conns int) (openResult, error) {
	n := int(float64(rate) * d.Seconds())
	if rate <= 0 || n <= 0 {
		return openResult{}, fmt.Errorf("open-loop run: rate %d/s for %s sends no request", rate, d)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	lat := make([]time.Duration, n)
	var failed atomic.Int64
	var firstErr atomic.Pointer[error]
	maxInFlight := 4 * conns
	slots := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := 0; i < n; i++ {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
				wg.Wait()
				return openResult{}, fmt.Errorf("open-loop run: %w", ctx.Err())
			case <-time.After(wait):
			}
		}
		slots <- struct{}{} // beyond maxInFlight the wait counts in the latency
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			if err := getOnce(ctx, client, url); err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, &err)
			}
			lat[i] = time.Since(due)
		}()
	}
	wg.Wait()
	r := openResult{sent: n, failed: int(failed.Load())}
	if p := firstErr.Load(); p != nil && r.failed > n/100 {
		return r, fmt.Errorf("open-loop run: %d of %d requests failed, first: %w", r.failed, n, *p)
	}
	slices.Sort(lat)
	r.p50, r.p99, r.max = lat[n/2], lat[n*99/100], lat[n-1]
	return r, nil
}

var errNot200 = errors.New("answer was not 200")

// getOnce sends one GET and reads the whole answer.
func getOnce(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%w: %s", errNot200, resp.Status)
	}
	return err
}
