package commands

import (
	"strings"
	"testing"
)

// preview:database takes the pull request's number and nothing else
// from the event: a missing or impossible number is refused before any
// AWS call, saying what to pass.
func TestPreviewDatabaseChecksThePRNumber(t *testing.T) {
	n := func(v int) *int { return &v }
	cases := []struct {
		name string
		pr   *int
		want int
		err  string
	}{
		{"a pull request's number", n(42), 42, ""},
		{"the largest GitHub number", n(2147483647), 2147483647, ""},
		{"no -pr", nil, 0, "pass the pull request's number: -pr=<number>"},
		{"zero", n(0), 0, "-pr=0 is not a pull request number"},
		{"negative", n(-3), 0, "-pr=-3 is not a pull request number"},
		{"beyond GitHub's range", n(99999999999), 0, "-pr=99999999999 is not a pull request number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := checkPR(c.pr)
			if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
				t.Errorf("checkPR = %d, %v; want %d, %q", got, err, c.want, c.err)
			}
		})
	}
}
