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
