package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult counts what a bounded load saw.
type loadResult struct {
	mu       sync.Mutex
	total    atomic.Int64
	failed   atomic.Int64 // transport errors and non-2xx
	byCommit map[string]int64
	firstErr string
	// after counts responses from `want` among those sent after mark.
	mark      atomic.Int64 // unix nanos; 0: not set
	markEnd   atomic.Int64 // unix nanos; 0: open
	want      string
	afterAll  atomic.Int64
	afterWant atomic.Int64
}

func (r *loadResult) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("%d requests, %d failed, by commit %v", r.total.Load(), r.failed.Load(), r.byCommit)
}

func newLoad() *loadResult { return &loadResult{byCommit: map[string]int64{}} }

// markShift starts counting how many responses come from commit want.
func (r *loadResult) markShift(at time.Time, want string) {
	r.mu.Lock()
	r.want = want
	r.mu.Unlock()
	r.mark.Store(at.UnixNano())
}

// runLoad sends GET /version through the router from clients goroutines
// until stop is closed, maxRequests were sent or maxTime passed: always
// bounded in count and time, and only to loopback.
func runLoad(ctx context.Context, res *loadResult, port int, host string, clients int, maxRequests int64, maxTime time.Duration, stop <-chan struct{}) *loadResult {
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	deadline := time.Now().Add(maxTime)
	var sent atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sent.Add(1) <= maxRequests && time.Now().Before(deadline) {
				select {
				case <-stop:
					return
				default:
				}
				res.one(ctx, hc, base, host)
			}
		}()
	}
	wg.Wait()
	return res
}

func (r *loadResult) one(ctx context.Context, hc *http.Client, base, host string) {
	started := time.Now().UnixNano()
	v, code, err := versionWith(ctx, hc, base, host)
	r.total.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil || code/100 != 2 {
		r.failed.Add(1)
		if r.firstErr == "" {
			r.firstErr = fmt.Sprintf("%d %v %s", code, err, v.Message)
		}
		return
	}
	r.byCommit[v.Commit]++
	if m, e := r.mark.Load(), r.markEnd.Load(); m != 0 && started >= m && (e == 0 || started < e) {
		r.afterAll.Add(1)
		if v.Commit == r.want {
			r.afterWant.Add(1)
		}
	}
}

func versionWith(ctx context.Context, hc *http.Client, base, host string) (versionInfo, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/version", nil)
	if err != nil {
		return versionInfo{}, 0, err
	}
	req.Host = host
	resp, err := hc.Do(req)
	if err != nil {
		return versionInfo{}, 0, err
	}
	defer resp.Body.Close()
	var v versionInfo
	if resp.StatusCode == http.StatusOK {
		err = json.NewDecoder(resp.Body).Decode(&v)
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	return v, resp.StatusCode, err
}
