package previewbench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/slipway/slipway/internal/deploy"
)

// Bounds of the watcher that polls the preview URL during a deploy.
const (
	pollEvery   = 20 * time.Millisecond
	pollTimeout = 2 * time.Second  // one request
	pollBound   = 90 * time.Second // one deploy, however long it takes
	pollGrace   = 2 * time.Second  // after DeployPreview returned
)

// row is one measured deploy.
type row struct {
	round  int // 0: the first deploy of the preview, not in the medians
	commit string
	at     map[string]time.Duration // events, since the deploy call started
	polls  int                      // requests the watcher sent
	gaps   int                      // of which failed or answered other than 200
}

// rounds deploys the preview at commit A (round 0, a new stack), then
// Rounds times alternating B, A, B, ..., each measured.
func (b *bench) rounds(ctx context.Context) ([]row, error) {
	var rows []row
	for i := 0; i <= b.o.Rounds; i++ {
		commit := b.revs[i%2].Commit
		r, err := b.round(ctx, i, commit)
		if r.at != nil {
			rows = append(rows, r)
		}
		if err != nil {
			return rows, fmt.Errorf("measure round %d (commit %s): %w", i, commit[:7], err)
		}
	}
	return rows, nil
}

// round times one DeployPreview of the preview at commit while a watcher
// polls the preview URL for that commit.
func (b *bench) round(ctx context.Context, n int, commit string) (row, error) {
	b.builder.Rev = &b.revs[n%2]
	host := b.cfg.PreviewHost(fmt.Sprintf("pr-%d", previewPR))
	base, _ := b.flow.Routing.Dial(host)
	hc := &http.Client{Timeout: pollTimeout, Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()

	tl := b.rec.begin()
	defer b.rec.end()
	wctx, stop := context.WithTimeout(ctx, pollBound)
	defer stop()
	done := make(chan [2]int, 1)
	go func() {
		polls, gaps := watch(wctx, hc, base+"/version", host, commit, tl)
		done <- [2]int{polls, gaps}
	}()
	_, err := b.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: previewPR})
	tl.mark(evReturned)
	var counts [2]int
	select {
	case counts = <-done:
	case <-time.After(pollGrace):
		stop()
		counts = <-done
	}
	r := row{round: n, commit: commit, at: tl.events(), polls: counts[0], gaps: counts[1]}
	if err != nil {
		return r, err
	}
	if _, ok := r.at[evServed]; !ok {
		return r, fmt.Errorf("watch %s: the deploy succeeded but the URL never served commit %s within %s", host, commit[:7], pollBound)
	}
	return r, nil
}

// watch polls url with Host host every pollEvery until it answers 200 with
// commit on /version, marks evServed, and returns the number of requests
// and of gaps (an error or a status other than 200: an old commit is not a
// gap). It ends when ctx does.
func watch(ctx context.Context, hc *http.Client, url, host, commit string, tl *timeline) (polls, gaps int) {
	for ctx.Err() == nil {
		polls++
		got, code, err := versionOf(ctx, hc, url, host)
		switch {
		case err == nil && code == http.StatusOK && got == commit:
			tl.mark(evServed)
			return polls, gaps
		case ctx.Err() != nil:
			return polls - 1, gaps // cancelled mid-request: not an answer
		case err != nil || code != http.StatusOK:
			gaps++
		}
		select {
		case <-ctx.Done():
		case <-time.After(pollEvery):
		}
	}
	return polls, gaps
}

// versionOf returns the commit url reports.
func versionOf(ctx context.Context, hc *http.Client, url, host string) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", 0, fmt.Errorf("build request: %w", err)
	}
	req.Host = host
	resp, err := hc.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer func() { _ = resp.Body.Close() }() // read-only
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
		return "", resp.StatusCode, nil
	}
	var v struct{ Commit string }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&v); err != nil {
		return "", resp.StatusCode, fmt.Errorf("decode /version: %w", err)
	}
	return v.Commit, resp.StatusCode, nil
}
