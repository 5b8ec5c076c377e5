package previewbench

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"

	"github.com/slipway/slipway/internal/local"
	"github.com/slipway/slipway/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestMedian(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var ds []time.Duration
		for _, n := range ns {
			ds = append(ds, time.Duration(n)*time.Millisecond)
		}
		return ds
	}
	tests := map[string]struct {
		in   []time.Duration
		want time.Duration
	}{
		"an odd count takes the middle value":            {ms(900, 100, 300, 5000, 200), 300 * time.Millisecond},
		"an even count takes the mean of the middle two": {ms(400, 100, 200, 300), 250 * time.Millisecond},
		"one value is its own median":                    {ms(42), 42 * time.Millisecond},
		"no values give zero":                            {nil, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := append([]time.Duration(nil), tc.in...)
			if got := median(tc.in); got != tc.want {
				t.Fatalf("median(%v) = %v, want %v", tc.in, got, tc.want)
			}
			for i := range in {
				if in[i] != tc.in[i] {
					t.Fatalf("median reordered its input: %v, was %v", tc.in, in)
				}
			}
		})
	}
}

func TestFmtDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		2346 * time.Millisecond: "2.35s",
		time.Second:             "1.00s",
		456 * time.Millisecond:  "456ms",
		7800 * time.Microsecond: "7.8ms",
	} {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestColumnNeedsBothEventsInOrder(t *testing.T) {
	swap := column{name: "swap", from: evHealthy, to: evSwapped}
	tests := map[string]struct {
		at     map[string]time.Duration
		want   time.Duration
		wantOK bool
	}{
		"both events":                  {map[string]time.Duration{evHealthy: time.Second, evSwapped: 1200 * time.Millisecond}, 200 * time.Millisecond, true},
		"a missing event gives a dash": {map[string]time.Duration{evSwapped: time.Second}, 0, false},
		"events out of order (a new preview is routed after Deploy) give a dash": {
			map[string]time.Duration{evHealthy: 2 * time.Second, evSwapped: time.Second}, 0, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := swap.of(row{at: tc.at})
			if got != tc.want || ok != tc.wantOK {
				t.Fatalf("of = %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestRecorderMarksEventsFromProgressLines(t *testing.T) {
	var log bytes.Buffer
	r := &recorder{log: &log}
	tl := r.begin()
	if _, err := r.writer().Write([]byte("pbx-pr-1: pbx-pr-1-abc is healthy\npbx-pr-1: routes moved to pbx-pr-1-abc\n")); err != nil {
		t.Fatal(err)
	}
	r.end()
	r.mark(evServed) // between deploys: ignored
	at := tl.events()
	if _, ok := at[evHealthy]; !ok {
		t.Errorf("no %s event from %q", evHealthy, log.String())
	}
	if _, ok := at[evSwapped]; !ok {
		t.Errorf("no %s event from %q", evSwapped, log.String())
	}
	if _, ok := at[evServed]; ok {
		t.Errorf("an event outside a deploy was recorded")
	}
	if n := strings.Count(log.String(), "\n"); n != 2 {
		t.Errorf("logged %d lines, want 2:\n%s", n, log.String())
	}
}

func TestReportMatchesGolden(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	ev := func(base int) map[string]time.Duration {
		return map[string]time.Duration{
			evRouter: ms(2), evBuild: ms(8), evShared: ms(20), evCreated: ms(60), evStarted: ms(400 + base), evHealthy: ms(520 + base),
			evSwapped: ms(540 + base), evServed: ms(550 + base), evStop: ms(560 + base), evStopped: ms(700 + base),
			evDeployed: ms(760 + base), evTesting: ms(800 + base), evTested: ms(3000 + base), evReturned: ms(3010 + base),
		}
	}
	first := map[string]time.Duration{evRouter: ms(3), evBuild: ms(9), evShared: ms(25), evCreated: ms(70), evStarted: ms(450), evHealthy: ms(600),
		evDeployed: ms(700), evSwapped: ms(720), evServed: ms(730), evTesting: ms(740), evTested: ms(6000), evReturned: ms(6010)}
	rows := []row{
		{round: 0, commit: strings.Repeat("a", 40), at: first, polls: 40, gaps: 36},
		{round: 1, commit: strings.Repeat("b", 40), at: ev(0), polls: 28},
		{round: 2, commit: strings.Repeat("a", 40), at: ev(100), polls: 31},
		{round: 3, commit: strings.Repeat("b", 40), at: ev(-50), polls: 27},
	}
	tables := []table{
		{scenario: scenario{short: "slow", name: "a slow scenario"}, rows: rows},
		{scenario: scenario{short: "broken", name: "a scenario that never served"}, rows: []row{{round: 0, commit: strings.Repeat("a", 40), at: first}}},
	}
	fixed := []cost{{"docker connect and ping", ms(3), 1}, {"detect commit with git", ms(12), 2}, {"go test start-up", ms(900), 0}}
	var out bytes.Buffer
	if err := report(&out, "header line", tables, fixed); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if out.String() != string(want) {
		t.Errorf("report differs from %s (run with -update if the change is intended):\n%s", golden, out.String())
	}
}

// TestRunPreviewBench runs the benchmark. It is a measurement, not a test:
// it asserts no timing, and it only runs when asked, with
// SLIPWAY_PREVIEWBENCH=1 (SLIPWAY_PREVIEWBENCH_MAGE=1 also times
// `go run mage.go -l`). The figures are in the test log (go test -v).
func TestRunPreviewBench(t *testing.T) {
	if os.Getenv("SLIPWAY_PREVIEWBENCH") != "1" {
		t.Skip("SKIPPED (not counted as passed): a benchmark, not a test; set SLIPWAY_PREVIEWBENCH=1 to run it and print its figures")
	}
	testenv.Docker(t)
	var out bytes.Buffer
	err := Run(context.Background(), Options{Log: testenv.Log(t), Mage: os.Getenv("SLIPWAY_PREVIEWBENCH_MAGE") == "1"}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, want := range []string{"median", "SERVE", "goal:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestRunCleansUpWhenCancelled cancels a run in the middle of a deploy and
// checks that nothing of its app is left on the engine. It stops at the
// first container start, so it is cheap enough to run with every suite.
func TestRunCleansUpWhenCancelled(t *testing.T) {
	cli := testenv.Docker(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &cancelOn{t: t, words: "starting container", cancel: cancel}
	err := Run(ctx, Options{Log: log}, io.Discard)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run cancelled mid-deploy: %v, want context.Canceled", err)
	}
	m := regexp.MustCompile(`bench: app (pb[0-9a-f]+)`).FindStringSubmatch(log.all.String())
	if m == nil {
		t.Fatalf("no app name in the log:\n%s", log.all.String())
	}
	f := filters.NewArgs(filters.Arg("label", local.LabelApp+"="+m[1]))
	cs, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := cli.NetworkList(context.Background(), network.ListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := cli.VolumeList(context.Background(), volume.ListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs)+len(ns)+len(vs.Volumes) != 0 {
		t.Fatalf("left behind by a cancelled run of %s: %d containers, %d networks, %d volumes", m[1], len(cs), len(ns), len(vs.Volumes))
	}
}

// cancelOn logs to the test and calls cancel once a line contains words.
type cancelOn struct {
	t      *testing.T
	words  string
	cancel func()
	mu     sync.Mutex
	all    bytes.Buffer
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all.Write(p)
	c.t.Log(strings.TrimRight(string(p), "\n"))
	if strings.Contains(string(p), c.words) {
		c.cancel()
	}
	return len(p), nil
}
