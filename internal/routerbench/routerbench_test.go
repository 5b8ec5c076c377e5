package routerbench

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/testenv"
)

const wrkOutput = `Running 10s test @ http://127.0.0.1:18083/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.58ms    1.01ms  45.20ms   93.11%
    Req/Sec    18.20k     1.10k   20.31k    70.50%
  Latency Distribution
     50%  812.00us
     75%    1.71ms
     90%    2.42ms
     99%    5.26ms
  362112 requests in 10.00s, 45.24MB read
Requests/sec:  36201.55
Transfer/sec:      4.52MB
`

func TestParseWrk(t *testing.T) {
	tests := map[string]struct {
		out     string
		want    wrkResult
		wantErr string
	}{
		"a clean run": {out: wrkOutput, want: wrkResult{requests: 362112, rps: 36201.55, p50: 812 * time.Microsecond, p99: 5260 * time.Microsecond}},
		"socket errors and non-2xx answers are kept": {
			out: strings.Replace(wrkOutput, "Requests/sec:", "  Socket errors: connect 0, read 3, write 0, timeout 0\n  Non-2xx or 3xx responses: 7\nRequests/sec:", 1),
			want: wrkResult{requests: 362112, rps: 36201.55, p50: 812 * time.Microsecond, p99: 5260 * time.Microsecond,
				errors: "Socket errors: connect 0, read 3, write 0, timeout 0 Non-2xx or 3xx responses: 7"}},
		"output without --latency is refused": {out: "Requests/sec: 10\n 5 requests in 1s\n", wantErr: "latency distribution"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseWrk(tc.out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseWrk: %v, want error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseWrk: %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseStatTicks(t *testing.T) {
	stat := "4242 (slipway router) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 567 0 0 20 0 9 0 100 1000 200 18446744073709551615"
	got, err := parseStatTicks(stat)
	if err != nil || got != 1234+567 {
		t.Fatalf("parseStatTicks: %d, %v; want 1801 (utime+stime, command name with a space)", got, err)
	}
}

func TestPlanMustFitMaxTotal(t *testing.T) {
	err := Run(context.Background(), Options{Duration: time.Minute, Rounds: 10, MaxTotal: time.Minute}, &bytes.Buffer{})
	if err == nil || !(strings.Contains(err.Error(), "more than MaxTotal") || strings.Contains(err.Error(), "apt-get install haproxy wrk")) {
		t.Fatalf("Run with an oversized plan: %v", err)
	}
}

// TestRunBenchmark runs the real benchmark. It loads both cores, so it only
// runs when asked: SLIPWAY_ROUTERBENCH=smoke (one 1s round) or =full (the
// defaults); SLIPWAY_ROUTERBENCH_PROFILE=file also saves a router CPU profile.
func TestRunBenchmark(t *testing.T) {
	mode := os.Getenv("SLIPWAY_ROUTERBENCH")
	if mode == "" {
		t.Skip("SKIPPED (not counted as passed): set SLIPWAY_ROUTERBENCH=smoke or =full to run the router benchmark")
	}
	testenv.Binary(t, "haproxy", "apt-get install haproxy")
	testenv.Binary(t, "wrk", "apt-get install wrk")
	opts := Options{CPUProfile: os.Getenv("SLIPWAY_ROUTERBENCH_PROFILE")}
	if mode == "smoke" {
		opts.Duration, opts.Warmup, opts.Rounds, opts.FixedDuration = time.Second, time.Second, 1, time.Second
	}
	var out bytes.Buffer
	if err := Run(context.Background(), opts, &out); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())
	for _, want := range []string{"direct", "router", "stock", "haproxy", "router/stock rps", "router/haproxy rps"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestReportMarksEachGoal(t *testing.T) {
	smp := func(rps float64, p99, fixedP99 time.Duration, hwmKB int64) []sample {
		return []sample{{wrk: wrkResult{requests: 1000, rps: rps, p50: p99 / 3, p99: p99},
			open: openResult{sent: 10000, p50: fixedP99 / 2, p99: fixedP99, max: 2 * fixedP99}, cpuPerReq: 100 * time.Microsecond, fixedCPUPerReq: 90 * time.Microsecond, hwmKB: hwmKB}}
	}
	res := map[string][]sample{
		"direct":  smp(28000, 14*time.Millisecond, 300*time.Microsecond, 15000),
		"router":  smp(7000, 27*time.Millisecond, 900*time.Microsecond, 25000),
		"stock":   smp(3000, 55*time.Millisecond, 2*time.Millisecond, 16000),
		"haproxy": smp(15000, 12*time.Millisecond, 500*time.Microsecond, 15000),
	}
	var out bytes.Buffer
	opts := Options{}
	opts.defaults()
	if err := report(&out, opts, res); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"✓ router/stock rps 2.33 goal >= 1.2",
		"✗ router/haproxy rps 0.47 goal >= 0.5",
		"✗ p99 above haproxy, saturation +15.00ms goal <= 1.00ms",
		"✓ p99 above haproxy, 1000 requests/s +400.0µs goal <= 1.00ms",
		"✓ router peak RSS 24.4 MB goal <= 30 MB",
		"router 7000 9.00ms 27.00ms 100.0µs 24.4 MB 450.0µs 900.0µs 1.80ms 90.0µs 0/10000",
	}
	var lines []string
	for _, l := range strings.Split(out.String(), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	got := strings.Join(lines, "\n")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("report lacks %q:\n%s", w, out.String())
		}
	}
}

func TestOpenLoopChargesTheQueue(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(20 * time.Millisecond)
	}))
	defer slow.Close()
	// One connection carries at most 50 requests/s; 100/s for 1s falls
	// behind by about 10ms a request, so the last wait about 500ms.
	r, err := openLoop(context.Background(), slow.URL, 100, time.Second, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.sent != 100 || r.failed != 0 {
		t.Fatalf("sent %d, failed %d; want 100 sent, none failed", r.sent, r.failed)
	}
	if r.p50 < 100*time.Millisecond || r.p99 < 400*time.Millisecond {
		t.Fatalf("p50 %s, p99 %s: the queue behind a slow server must count (a closed loop would show 20ms)", r.p50, r.p99)
	}
}

func TestOpenLoopFailsOnErrors(t *testing.T) {
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer bad.Close()
	_, err := openLoop(context.Background(), bad.URL, 50, time.Second, 4)
	if err == nil || !strings.Contains(err.Error(), "50 of 50 requests failed") || !strings.Contains(err.Error(), "502") {
		t.Fatalf("openLoop against a 502 server: %v", err)
	}
}
