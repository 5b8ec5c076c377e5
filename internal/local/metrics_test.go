package local

import (
	"reflect"
	"testing"

	"github.com/slipway/slipway/internal/router"
)

// What a canary reads in TrafficSample.Unhealthy, from the router's own
// GET /metrics.json (target -> stack) and GET /status (health) bodies.
func TestUnhealthyStacksNameEachFailingTargetAndItsLastError(t *testing.T) {
	stats := map[string]router.TargetStats{
		"a-1": {Stack: "a"}, "a-2": {Stack: "a"},
		"b-1": {Stack: "b"},
		"c-1": {Stack: "c"}, "c-2": {Stack: "c"},
		"d-1": {Stack: "d"},
		"":    {}, // the router's own answers
	}
	st := router.Status{Targets: []router.TargetStatus{
		{Name: "a-1", Healthy: true},
		{Name: "a-2", LastError: "GET /healthz: status 503"},
		{Name: "b-1"}, // never passed a check yet
		{Name: "c-1", Healthy: true},
		{Name: "c-2", LastError: "GET /healthz: dial tcp: connection refused", Draining: true}, // being removed: does not count
		{Name: "d-1", LastError: "GET /healthz: context deadline exceeded"},
		{Name: "new-1"}, // added after the metrics were read: no stack known
	}}
	want := map[string]string{
		"a": "1 of 2 targets fail their health check: a-2: GET /healthz: status 503",
		"b": "no healthy target in the router: b-1: no health check has passed yet",
		"d": "no healthy target in the router: d-1: GET /healthz: context deadline exceeded",
	}
	if got := unhealthyStacks(stats, st); !reflect.DeepEqual(got, want) {
		t.Fatalf("unhealthy stacks:\n got %q\nwant %q", got, want)
	}
}
