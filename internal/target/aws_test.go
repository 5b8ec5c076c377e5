package target

import (
	"strings"
	"testing"
)

// SLIPWAY_PREVIEW_DATABASE says whether an aws preview may create its
// database; a typo is refused, not read as the default.
func TestPreviewDatabaseSetting(t *testing.T) {
	for v, want := range map[string]bool{"": false, "create": false, " existing ": true} {
		got, err := existingPreviewDatabases(func(string) string { return v })
		if err != nil || got != want {
			t.Errorf("SLIPWAY_PREVIEW_DATABASE=%q: %v, %v; want %v", v, got, err, want)
		}
	}
	if _, err := existingPreviewDatabases(func(string) string { return "exisiting" }); err == nil || !strings.Contains(err.Error(), "want create or existing") {
		t.Errorf("a typo: %v; want a refusal naming the values", err)
	}
}
