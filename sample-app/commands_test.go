package main

import (
	"strings"
	"testing"

	"github.com/slipway/slipway/sample-app/store"
)

// Held migrations are named as what they are (issue 16): the contract
// that holds them, and an expand one behind it, never "a held contract".
func TestHeldMigrationsAreNamedWithTheirKinds(t *testing.T) {
	held := []store.Migration{
		{Version: 3, Name: "00003_drop_visits.sql", Kind: store.Contract},
		{Version: 4, Name: "00004_x.sql", Kind: store.Expand},
	}
	if got, want := heldList(held), "00003_drop_visits.sql (contract), 00004_x.sql (expand, behind the contract)"; got != want {
		t.Fatalf("heldList = %q, want %q", got, want)
	}
}

// The migrate command reads Slipway's migrate contract for a command of
// slipway.yaml: SLIPWAY_MIGRATE and SLIPWAY_MIGRATE_TO.
func TestMigrateReadsTheMigrateContractsVariables(t *testing.T) {
	for _, tc := range []struct {
		env        map[string]string
		expandOnly bool
		to         int64
		err        string
	}{
		{env: map[string]string{}},
		{env: map[string]string{"SLIPWAY_MIGRATE": "all"}},
		{env: map[string]string{"SLIPWAY_MIGRATE": "expand"}, expandOnly: true},
		{env: map[string]string{"SLIPWAY_MIGRATE": "all", "SLIPWAY_MIGRATE_TO": "2"}, to: 2},
		{env: map[string]string{"SLIPWAY_MIGRATE": "contract"}, err: `SLIPWAY_MIGRATE="contract": want all or expand`},
		{env: map[string]string{"SLIPWAY_MIGRATE_TO": "head"}, err: `SLIPWAY_MIGRATE_TO="head": want a version`},
	} {
		expandOnly, to, err := migrateEnv(func(k string) string { return tc.env[k] })
		if tc.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want %q", tc.env, err, tc.err)
			}
			continue
		}
		if err != nil || expandOnly != tc.expandOnly || to != tc.to {
			t.Errorf("%v: %v, %d, %v; want %v, %d", tc.env, expandOnly, to, err, tc.expandOnly, tc.to)
		}
	}
}
