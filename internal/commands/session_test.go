package commands

import (
	"bytes"
	"strings"
	"testing"

	"github.com/slipway/slipway/internal/config"
)

// `demo` with SLIPWAY_TARGET=aws still runs on this machine, and says so.
func TestDemoIsAlwaysLocal(t *testing.T) {
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"SLIPWAY_TARGET": "aws", "HOME": t.TempDir()}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	got := localOnly(cfg, &log)
	if got.Target != config.TargetLocal || !strings.HasPrefix(got.URL(got.ProductionHost()), "http://") {
		t.Fatalf("demo target %q, URL %s: want local", got.Target, got.URL(got.ProductionHost()))
	}
	if !strings.Contains(log.String(), "demo: runs on the local target") {
		t.Fatalf("demo does not say it ignores SLIPWAY_TARGET=aws: %q", log.String())
	}
}
