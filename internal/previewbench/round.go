package previewbench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/slipway/slipway/internal/build"
	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/naming"
)

// Bounds of the watcher that polls the preview URL during a deploy.
const (
	pollEvery   = 20 * time.Millisecond
	pollTimeout = 2 * time.Second  // one request
	maxInFlight = 16               // requests at once: a hung one does not delay the others
	pollBound   = 90 * time.Second // one deploy, however long it takes
	pollGrace   = 2 * time.Second  // after DeployPreview returned
)

// scenario is a way the router image is chosen before each deploy.
type scenario struct {
	short, name string
	// routerPerCommit builds the router for the deployed commit, as
	// PrepareRouter does today; otherwise the router stays on commit A's.
	routerPerCommit bool
}

var scenarios = []scenario{
	{"preview:deploy", "as preview:deploy does: the router image comes from the router's own sources, so an app commit does not replace it", false},
}

// table is the rows of one scenario.
type table struct {
	scenario scenario
	rows     []row
}

// row is one measured deploy.
type row struct {
	round  int // 0: puts the preview at commit A (the first creates it), not in the medians
	commit string
	at     map[string]time.Duration // events, since PrepareRouter started
	polls  int                      // requests the watcher sent
	gaps   int                      // of which failed or answered other than 200
}

// rounds deploys the preview at commit A (round 0), then Rounds times
// alternating B, A, B, ..., each measured.
func (b *bench) rounds(ctx context.Context, sc scenario) (table, error) {
	t := table{scenario: sc}
	for i := 0; i <= b.o.Rounds; i++ {
		rev := b.revs[i%2]
		r, err := b.round(ctx, i, rev, sc)
		if r.at != nil {
			t.rows = append(t.rows, r)
		}
		if err != nil {
			return t, fmt.Errorf("measure round %d (commit %s): %w", i, naming.ShortCommit(rev.Commit), err)
		}
	}
	return t, nil
}

// round does what `preview:deploy` does once the session is open, timed:
// PrepareRouter, then DeployPreview at rev, while a watcher polls the
// preview URL for rev's commit.
func (b *bench) round(ctx context.Context, n int, rev build.Revision, sc scenario) (row, error) {
	host := b.cfg.PreviewHost(fmt.Sprintf("pr-%d", previewPR))
	base, _ := b.flow.Routing.Dial(host)
	hc := &http.Client{Timeout: pollTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: maxInFlight}}
	defer hc.CloseIdleConnections()

	tl := b.rec.begin()
	defer b.rec.end()
	wctx, stop := context.WithTimeout(ctx, pollBound)
	defer stop()
	done := make(chan [2]int, 1)
	go func() {
		polls, gaps := watch(wctx, hc, base+"/version", host, rev.Commit, tl, b.rec.line)
		done <- [2]int{polls, gaps}
	}()
	b.routerRev = b.revs[0]
	if sc.routerPerCommit {
		b.routerRev = rev
	}
	b.appRev = rev
	_, err := b.flow.DeployPreview(ctx, deploy.PreviewRequest{PR: previewPR})
	tl.mark(evReturned)
	var counts [2]int
	select {
	case counts = <-done:
	case <-time.After(pollGrace):
		stop()
		counts = <-done
	}
	r := row{round: n, commit: rev.Commit, at: tl.events(), polls: counts[0], gaps: counts[1]}
	if err != nil {
		return r, err
	}
	if _, ok := r.at[evServed]; !ok {
		return r, fmt.Errorf("watch %s: the deploy succeeded but the URL never served commit %s within %s", host, naming.ShortCommit(rev.Commit), pollBound)
	}
	return r, nil
}

// buildRouter is what the local target calls when it ensures the shared
// stack, as in a command: build (here: reuse) the router image of the
// round's router commit, then the app's builder is set to the round's
// commit again.
func (b *bench) buildRouter(ctx context.Context) (string, error) {
	rev := b.routerRev
	b.builder.Rev = &rev
	id, err := b.builder.BuildRouter(ctx)
	app := b.appRev
	b.builder.Rev = &app
	b.rec.mark(evRouter)
	return id, err
}

// answer is one poll's outcome; why says what a gap was.
type answer struct {
	served bool
	why    string
}

// watch polls url with Host host every pollEvery, several requests at once
// when some are slow, until one answers 200 with commit on /version; it
// marks evServed then and returns the number of requests and of gaps (an
// error or a status other than 200; an old commit is not a gap). It logs
// where a run of gaps starts and ends. It ends when ctx does.
func watch(ctx context.Context, hc *http.Client, url, host, commit string, tl *timeline, logLine func(string)) (polls, gaps int) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answers := make(chan answer, maxInFlight)
	inFlight, inGap := 0, false
	send := func() {
		inFlight++
		polls++
		go func() { answers <- poll(ctx, hc, url, host, commit) }()
	}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	send()
	for ctx.Err() == nil {
		select {
		case a := <-answers:
			inFlight--
			switch {
			case a.served:
				tl.mark(evServed)
				cancel()
			case a.why == "" && inGap:
				logLine("watch: the URL answers again")
			case a.why != "" && ctx.Err() == nil:
				gaps++
				if !inGap {
					logLine("watch: the URL fails: " + a.why)
				}
			}
			inGap = a.why != ""
		case <-tick.C:
			if inFlight < maxInFlight {
				send()
			}
		case <-ctx.Done():
		}
	}
	for ; inFlight > 0; inFlight-- { // cancelled: they return at once
		<-answers
	}
	return polls, gaps
}

// poll asks url once.
func poll(ctx context.Context, hc *http.Client, url, host, commit string) answer {
	got, code, err := versionOf(ctx, hc, url, host)
	switch {
	case err != nil:
		return answer{why: err.Error()}
	case code != http.StatusOK:
		return answer{why: fmt.Sprintf("status %d", code)}
	}
	return answer{served: got == commit}
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
