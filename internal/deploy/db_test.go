package deploy

import (
	"slices"
	"strings"
	"testing"
)

func TestParseContracts(t *testing.T) {
	tests := []struct {
		name, label string
		want        []Contract
		wantErr     bool
	}{
		{"none", "", nil, false},
		{"one", "3:00003_drop_visits.sql", []Contract{{3, "00003_drop_visits.sql"}}, false},
		{"sorted by version", "7:b.sql, 4:a.sql", []Contract{{4, "a.sql"}, {7, "b.sql"}}, false},
		{"a file without version is refused", "00003_drop_visits.sql", nil, true},
		{"a version that is not a number is refused", "x:a.sql", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseContracts(tt.label)
			if (err != nil) != tt.wantErr || len(got) != len(tt.want) {
				t.Fatalf("ParseContracts(%q) = %v, %v", tt.label, got, err)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("ParseContracts(%q) = %v, want %v", tt.label, got, tt.want)
				}
			}
		})
	}
}

func TestMigrateOutputIsReadFromItsLastLine(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      MigrateResult
		err       string
	}{
		{name: "progress lines before the answer", out: "goose: applied 2\n{\"from\":1,\"to\":3,\"held\":[\"00003\"]}\n", want: MigrateResult{From: 1, To: 3, Held: []string{"00003"}}},
		{name: "nothing held", out: `{"from":3,"to":3}`, want: MigrateResult{From: 3, To: 3}},
		{name: "no answer", out: "migrate: done\n", err: `read what migrate printed ("migrate: done")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMigrateOutput(tc.out)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got.From != tc.want.From || got.To != tc.want.To || !slices.Equal(got.Held, tc.want.Held) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	if got := MigrateCommand(true); !slices.Equal(got, []string{"migrate", "-expand-only"}) {
		t.Fatalf("expand-only command %q", got)
	}
}
