package itest

import (
	"slices"
	"testing"
)

// A stack Slipway gave a database is tested as one: its database tests
// fail rather than skip when /version reports none.
func TestExpectDatabaseIsPassedToTheTests(t *testing.T) {
	if env := (Target{BaseURL: "http://127.0.0.1:1", ExpectDatabase: true}).env(); !slices.Contains(env, "SLIPWAY_EXPECT_DATABASE=1") {
		t.Fatalf("env %v lacks SLIPWAY_EXPECT_DATABASE=1", env)
	}
	if env := (Target{BaseURL: "http://127.0.0.1:1"}).env(); slices.ContainsFunc(env, func(kv string) bool { return kv == "SLIPWAY_EXPECT_DATABASE=1" }) {
		t.Fatalf("env %v expects a database the stack was not given", env)
	}
}

// The tests are told whether the stack runs on production's data, so that
// they only read it there.
func TestTheTestsAreToldTheyRunOnProduction(t *testing.T) {
	for _, tc := range []struct {
		production bool
		want       string
	}{{true, "SLIPWAY_ENV=production"}, {false, "SLIPWAY_ENV=preview"}} {
		if env := (Target{BaseURL: "http://127.0.0.1:1", Production: tc.production}).env(); !slices.Contains(env, tc.want) {
			t.Errorf("production=%v: env %v lacks %s", tc.production, env, tc.want)
		}
	}
}

// Any test client finds the stack at SLIPWAY_URL or BASE_URL, and the
// caller's own values of every variable are overridden, empty or not.
func TestTheTestsGetTheStacksURLAndNothingOfTheCallers(t *testing.T) {
	env := (Target{BaseURL: "http://127.0.0.1:41234"}).env()
	for _, want := range []string{"SLIPWAY_URL=http://127.0.0.1:41234", "BASE_URL=http://127.0.0.1:41234",
		"SLIPWAY_BASE_URL=http://127.0.0.1:41234", "SLIPWAY_EXPECT_DATABASE=", "SLIPWAY_HOST=", "SLIPWAY_ENV=preview"} {
		if !slices.Contains(env, want) {
			t.Errorf("env %v lacks %s", env, want)
		}
	}
}
