package deploy

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

// trafficFake is the fake with production traffic as a test scripts it:
// each reading of the counters adds perRead requests, shared out by the
// production weights, each stack answering with its commit's error share
// and latency. It records every production split set.
type trafficFake struct {
	*fakeProvider
	perRead  int
	errShare map[string]float64 // by commit; 0 when absent
	latency  map[string]float64 // seconds, by commit; 2 ms when absent
	sick     map[string]string  // TrafficSample.Unhealthy, by commit
	counts   map[string]TrafficSample
	splits   [][]Weight
}

func newTrafficFake(perRead int) *trafficFake {
	return &trafficFake{fakeProvider: newFake(), perRead: perRead, errShare: map[string]float64{}, latency: map[string]float64{},
		sick: map[string]string{}, counts: map[string]TrafficSample{}}
}

func (p *trafficFake) SetProduction(ctx context.Context, w []Weight) error {
	p.splits = append(p.splits, append([]Weight(nil), w...))
	return p.fakeProvider.SetProduction(ctx, w)
}

func (p *trafficFake) Sample(context.Context) (map[string]TrafficSample, error) {
	total := 0
	for _, w := range p.routes.Production {
		total += w.Weight
	}
	out := map[string]TrafficSample{}
	for _, w := range p.routes.Production {
		commit := p.stacks[w.Stack].Commit
		c := p.counts[w.Stack]
		n := uint64(p.perRead * w.Weight / total)
		lat, ok := p.latency[commit]
		if !ok {
			lat = 0.002
		}
		c.Requests += n
		c.Errors = uint64(float64(c.Requests) * p.errShare[commit])
		c.LatencySum += float64(n) * lat
		p.counts[w.Stack] = c
		c.Unhealthy = p.sick[commit]
		out[w.Stack] = c
	}
	return out, nil
}

// maxShare is the largest share, in percent, stack was ever given.
func (p *trafficFake) maxShare(stack string) int {
	most := 0
	for _, split := range p.splits {
		total, mine := 0, 0
		for _, w := range split {
			total += w.Weight
			if w.Stack == stack {
				mine = w.Weight
			}
		}
		if total > 0 {
			most = max(most, mine*100/total)
		}
	}
	return most
}

// canaryTable reads the table PrintCanarySteps wrote into its rows by
// weight, each a map from column to cell.
func canaryTable(t *testing.T, out string) map[string]map[string]string {
	t.Helper()
	_, table, ok := strings.Cut(out, "WEIGHT")
	if !ok {
		t.Fatalf("no table of the canary's steps in:\n%s", out)
	}
	cols := regexp.MustCompile(`\s{2,}`)
	lines := strings.Split(strings.TrimRight("WEIGHT"+table, "\n"), "\n")
	head := cols.Split(strings.TrimSpace(lines[0]), -1)
	rows := map[string]map[string]string{}
	for _, l := range lines[1:] {
		if !strings.HasSuffix(strings.Fields(l)[0], "%") {
			break
		}
		cells := cols.Split(strings.TrimSpace(l), -1)
		if len(cells) != len(head) {
			t.Fatalf("row %q has %d cells, want %d (%v)", l, len(cells), len(head), head)
		}
		row := map[string]string{}
		for i, h := range head {
			row[h] = cells[i]
		}
		rows[cells[0]] = row
	}
	return rows
}
