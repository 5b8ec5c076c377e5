package main

import (
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
