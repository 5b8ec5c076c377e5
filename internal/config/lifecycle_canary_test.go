package config

import (
	"strings"
	"testing"
	"time"
)

// A canary step too few requests reached bakes on up to 5× the bake
// unless SLIPWAY_CANARY_MAX_BAKE says otherwise, and fails unless
// SLIPWAY_CANARY_ALLOW_UNJUDGED is set.
func TestCanaryMaxBakeAndUnjudgedSteps(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		maxBake time.Duration
		allow   bool
		problem string
	}{
		{"defaults", nil, 5 * time.Minute, false, ""},
		{"5× a longer bake", map[string]string{"SLIPWAY_CANARY_BAKE": "5m"}, 25 * time.Minute, false, ""},
		{"set, unjudged allowed", map[string]string{"SLIPWAY_CANARY_MAX_BAKE": "3m", "SLIPWAY_CANARY_ALLOW_UNJUDGED": "1"}, 3 * time.Minute, true, ""},
		{"shorter than the bake", map[string]string{"SLIPWAY_CANARY_BAKE": "2m", "SLIPWAY_CANARY_MAX_BAKE": "1m"}, 0,
			false, "SLIPWAY_CANARY_MAX_BAKE=1m0s is shorter than SLIPWAY_CANARY_BAKE=2m0s"},
		{"not a yes/no", map[string]string{"SLIPWAY_CANARY_ALLOW_UNJUDGED": "sure"}, 0, false, "SLIPWAY_CANARY_ALLOW_UNJUDGED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := LoadLifecycle(func(k string) string { return tc.env[k] })
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("err = %v, want %q", err, tc.problem)
				}
				return
			}
			if err != nil || l.CanaryMaxBake != tc.maxBake || l.AllowUnjudged != tc.allow {
				t.Fatalf("max bake %s, allow unjudged %v (%v); want %s, %v", l.CanaryMaxBake, l.AllowUnjudged, err, tc.maxBake, tc.allow)
			}
		})
	}
}
