package deploy

import (
	"slices"
	"strconv"
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
		{name: "progress lines before the answer", out: "goose: applied 2\n{\"from\":1,\"to\":2,\"applied\":[{\"version\":2,\"name\":\"00002_b.sql\",\"kind\":\"expand\"}],\"held\":[{\"version\":3,\"name\":\"00003_c.sql\",\"kind\":\"contract\"}]}\n",
			want: MigrateResult{From: 1, To: 2, Applied: []Migration{{2, "00002_b.sql", KindExpand}}, Held: []Migration{{3, "00003_c.sql", KindContract}}}},
		{name: "an image from before kinds names held files only", out: `{"from":1,"to":2,"held":["00003_c.sql"]}`, want: MigrateResult{From: 1, To: 2, Held: []Migration{{Name: "00003_c.sql"}}}},
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
			if err != nil || got.From != tc.want.From || got.To != tc.want.To || !slices.Equal(got.Held, tc.want.Held) || !slices.Equal(got.Applied, tc.want.Applied) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	if got := MigrateCommand(true); !slices.Equal(got, []string{"migrate", "-expand-only"}) {
		t.Fatalf("expand-only command %q", got)
	}
	if got := MigrateToCommand(2); !slices.Equal(got, []string{"migrate", "-to", "2"}) {
		t.Fatalf("migrate-to command %q", got)
	}
}

// Held and run migrations are named as what they are (issue 16): an
// expand migration after a contract one waits behind it, and is never
// called a contract.
func TestMigrationListNamesKinds(t *testing.T) {
	for _, tc := range []struct {
		name string
		ms   []Migration
		want string
	}{
		{"a contract with an expand behind it", []Migration{{3, "00003_drop_visits.sql", KindContract}, {4, "00004_x.sql", KindExpand}},
			"00003_drop_visits.sql (contract), 00004_x.sql (expand, behind the contract)"},
		{"an expand before the contract is not behind it", []Migration{{2, "00002_a.sql", KindExpand}, {3, "00003_b.sql", KindContract}},
			"00002_a.sql (expand), 00003_b.sql (contract)"},
		{"an image from before kinds", []Migration{{Name: "00003_drop_visits.sql"}}, "00003_drop_visits.sql"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MigrationList(tc.ms); got != tc.want {
				t.Fatalf("MigrationList = %q, want %q", got, tc.want)
			}
		})
	}
}

// refURL is a database known by its secret only: its Reveal is no URL.
type refURL struct{}

func (refURL) String() string { return "(the URL in secret shop/pr-9/database-url)" }
func (refURL) Reveal() string {
	return "slipway-secret:arn:aws:secretsmanager:us-east-1:1:secret:shop/pr-9/database-url-AbCdEf"
}
func (refURL) Database() string { return "shop_pr_9" }

// What a failed run prints reaches the error without a password: the
// database's own URL and password, and the password of any URL with
// credentials (the aws preview role never sees the URL it migrates).
func TestFailedRunOutputHoldsNoPassword(t *testing.T) {
	known := fakeURL{"shop_pr_9", "s3cret-pw"}
	for _, tc := range []struct {
		name string
		db   SecretURL
		out  string
		want string
	}{
		{"its URL", known, "goose: connecting to " + known.Reveal(), "goose: connecting to " + known.String()},
		{"its password alone", known, "password s3cret-pw refused", "password xxxxx refused"},
		{"a URL it never read", refURL{}, "goose: connecting to postgres://shop_pr_9:pw-from-secret@db:5432/shop_pr_9?sslmode=require",
			"goose: connecting to postgres://shop_pr_9:xxxxx@db:5432/shop_pr_9?sslmode=require"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactURL(tc.out, tc.db); got != tc.want {
				t.Fatalf("RedactURL(%q) = %q, want %q", tc.out, got, tc.want)
			}
		})
	}
	var out []string
	for i := 1; i <= 30; i++ {
		out = append(out, "line "+strconv.Itoa(i))
	}
	e := NewMigrationError(known, 3, strings.Join(out, "\n")+"\n")
	if e.ExitCode != 3 || e.Database != "shop_pr_9" || e.Output != strings.Join(out[10:], "\n") {
		t.Fatalf("NewMigrationError = %+v, want exit 3 on shop_pr_9 with the last 20 lines", e)
	}
}
