package config

import (
	"strings"
	"testing"
	"time"
)

func TestLifecycleDefaults(t *testing.T) {
	l, err := LoadLifecycle(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if l.Strategy != StrategyAllAtOnce || l.Warm != time.Hour || l.PreviewTTL != 168*time.Hour || l.CleanupParallel != 4 || len(l.CanarySteps) != 3 || l.AllowDirty {
		t.Fatalf("defaults %+v", l)
	}
}

func TestLifecycleProblemsNameTheVariable(t *testing.T) {
	env := map[string]string{
		"SLIPWAY_STRATEGY":              "yolo",
		"SLIPWAY_CANARY_STEPS":          "50,10",
		"SLIPWAY_ALLOW_DIRTY":           "maybe",
		"SLIPWAY_CANARY_MAX_ERROR_RATE": "2",
		"SLIPWAY_CLEANUP_PARALLEL":      "0",
	}
	_, err := LoadLifecycle(func(k string) string { return env[k] })
	for k := range env {
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("no problem named %s in %v", k, err)
		}
	}
}

func TestCanaryStepsEndAtAHundred(t *testing.T) {
	l, err := LoadLifecycle(func(k string) string { return map[string]string{"SLIPWAY_CANARY_STEPS": "5, 25"}[k] })
	if err != nil || len(l.CanarySteps) != 3 || l.CanarySteps[2] != 100 {
		t.Fatalf("%v %v", l.CanarySteps, err)
	}
}
