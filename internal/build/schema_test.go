package build

import (
	"maps"
	"strings"
	"testing"
)

func TestSchemaOutputBecomesTheLabelArguments(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      map[string]string
		err       string
	}{
		{
			name: "contract migrations listed by version and file",
			out:  `{"head":4,"min":2,"migrations":[{"version":1,"name":"00001_a.sql","kind":"expand"},{"version":3,"name":"00003_drop.sql","kind":"contract"},{"version":4,"name":"00004_rename.sql","kind":"contract"}]}`,
			want: map[string]string{"SCHEMA_HEAD": "4", "SCHEMA_MIN": "2", "SCHEMA_CONTRACTS": "3:00003_drop.sql,4:00004_rename.sql"},
		},
		{
			name: "no contract migration",
			out:  `{"head":1,"min":1,"migrations":[{"version":1,"name":"00001_a.sql","kind":"expand"}]}` + "\n",
			want: map[string]string{"SCHEMA_HEAD": "1", "SCHEMA_MIN": "1", "SCHEMA_CONTRACTS": ""},
		},
		{name: "a migration of unknown kind", out: `{"head":1,"min":1,"migrations":[{"version":1,"name":"00001_a.sql","kind":""}]}`, err: `migration 00001_a.sql has kind ""`},
		{name: "no head", out: `{"min":1,"migrations":[]}`, err: "want JSON with head, min and migrations"},
		{name: "not JSON", out: "usage: app serve|migrate|seed", err: `printed "usage: app serve|migrate|seed"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSchema([]byte(tc.out))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
