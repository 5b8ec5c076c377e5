package previewbench

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/slipway/slipway/internal/naming"
)

// column is one figure of a deploy: the time between two events ("" is
// the start of the deploy call).
type column struct {
	name, from, to string
}

// columns are the phases of a deploy in order, with the two figures the
// goal is about (serve, total) in capitals.
var columns = []column{
	{"router", "", evRouter},
	{"build", evRouter, evBuild},
	{"shared", evBuild, evShared},
	{"create", evShared, evCreated},
	{"start", evCreated, evStarted},
	{"health", evStarted, evHealthy},
	{"swap", evHealthy, evSwapped},
	{"SERVE", "", evServed},
	{"retire", evSwapped, evDeployed},
	{"(stop)", evStop, evStopped},
	{"routes", evDeployed, evTesting},
	{"tests", evTesting, evTested},
	{"TOTAL", "", evReturned},
}

// of returns the column's figure for r; false when an event is missing or
// they happened in the other order (a new preview has no old instance).
func (c column) of(r row) (time.Duration, bool) {
	to, ok := r.at[c.to]
	if !ok {
		return 0, false
	}
	var from time.Duration
	if c.from != "" {
		if from, ok = r.at[c.from]; !ok {
			return 0, false
		}
	}
	if to < from {
		return 0, false
	}
	return to - from, true
}

// medians returns each column's median over the measured rounds (not
// round 0), by column name; a column with no value is absent.
func medians(rows []row) map[string]time.Duration {
	meds := map[string]time.Duration{}
	for _, c := range columns {
		var ds []time.Duration
		for _, r := range rows {
			if d, has := c.of(r); has && r.round > 0 {
				ds = append(ds, d)
			}
		}
		if len(ds) > 0 {
			meds[c.name] = median(ds)
		}
	}
	return meds
}

func (b *bench) header() string {
	return fmt.Sprintf("preview deploy with the image already built: local target, app %s, PR %d, %d rounds alternating commits %s and %s, %d CPUs",
		b.app, previewPR, b.o.Rounds, naming.ShortCommit(b.revs[1].Commit), naming.ShortCommit(b.revs[0].Commit), runtime.NumCPU())
}

// report writes one table of rounds per scenario with their medians and
// the verdict on the goal, then the fixed costs (none when fixed is nil).
func report(out io.Writer, header string, tables []table, fixed []cost) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\ntimes since the deploy started (PrepareRouter, then DeployPreview); SERVE = the URL answers the new commit, TOTAL = DeployPreview returned (integration tests included)\n", header)
	fmt.Fprintf(&b, "goal: the URL serves the new commit <= %s after the command starts (median of the measured rounds)\n", fmtDur(Goal))
	serves := make([]time.Duration, len(tables))
	for i, t := range tables {
		fmt.Fprintf(&b, "\n%s\n", t.scenario.name)
		meds, err := renderTable(&b, t.rows)
		if err != nil {
			return err
		}
		serves[i] = verdict(&b, t.rows, meds)
	}
	fmt.Fprint(&b, "\n0* puts the preview at commit A and is not in the medians; the first creates the preview, which answers 503 until its host is routed\n")
	fmt.Fprint(&b, "router = PrepareRouter; shared = EnsureShared (replaces the router when its image changed); retire = drain, stop and remove the old instance, (stop) its ContainerStop\n")
	fmt.Fprint(&b, "gaps = polls of the URL that failed or answered other than 200 (an old commit is not a gap)\n")
	if fixed != nil {
		fixedCosts(&b, tables, serves, fixed)
	}
	if _, err := io.WriteString(out, b.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// renderTable writes the rows and their medians, and returns the medians.
func renderTable(b *strings.Builder, rows []row) (map[string]time.Duration, error) {
	tw := tabwriter.NewWriter(b, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "round\tcommit\t")
	for _, c := range columns {
		fmt.Fprintf(tw, "%s\t", c.name)
	}
	fmt.Fprint(tw, "gaps/polls\t\n")
	for _, r := range rows {
		label := fmt.Sprint(r.round)
		if r.round == 0 {
			label = "0*"
		}
		fmt.Fprintf(tw, "%s\t%s\t", label, naming.ShortCommit(r.commit))
		for _, c := range columns {
			d, ok := c.of(r)
			fmt.Fprintf(tw, "%s\t", orDash(d, ok))
		}
		fmt.Fprintf(tw, "%d/%d\t\n", r.gaps, r.polls)
	}
	meds := medians(rows)
	fmt.Fprint(tw, "median\t\t")
	for _, c := range columns {
		d, ok := meds[c.name]
		fmt.Fprintf(tw, "%s\t", orDash(d, ok))
	}
	fmt.Fprint(tw, "\t\n")
	if err := tw.Flush(); err != nil {
		return nil, fmt.Errorf("render report: %w", err)
	}
	return meds, nil
}

// verdict says whether the median time to serve meets the goal, and
// returns that median (-1 when no round served).
func verdict(b *strings.Builder, rows []row, meds map[string]time.Duration) time.Duration {
	serve, ok := meds["SERVE"]
	if !ok {
		fmt.Fprint(b, "no measured round served the new commit: no verdict\n")
		return -1
	}
	n, gaps := 0, 0
	for _, r := range rows {
		if r.round > 0 {
			n, gaps = n+1, gaps+r.gaps
		}
	}
	within := "within"
	if serve > Goal {
		within = "ABOVE"
	}
	fmt.Fprintf(b, "median SERVE %s over %d rounds: %s the %s goal, counted from PrepareRouter; DeployPreview returns after %s; %d gaps\n",
		fmtDur(serve), n, within, fmtDur(Goal), fmtDur(meds["TOTAL"]), gaps)
	return serve
}

// fixedCosts lists the steps timed apart and estimates, per scenario, the
// time from the command's start to SERVE.
func fixedCosts(b *strings.Builder, tables []table, serves []time.Duration, fixed []cost) {
	fmt.Fprintf(b, "\nsteps of `preview:deploy` outside the timed deploy (median of %d after a warm-up):\n", fixedRepeats)
	var before time.Duration
	for _, c := range fixed {
		fmt.Fprintf(b, "  %-72s %8s", c.name, fmtDur(c.d))
		if c.before > 1 {
			fmt.Fprintf(b, "  x%d", c.before)
		}
		fmt.Fprintln(b)
		before += time.Duration(c.before) * c.d
	}
	note := "no GitHub calls"
	if !hasMage(fixed) {
		note += ", no `go run mage.go` bootstrap: set Mage to time it"
	}
	fmt.Fprintf(b, "estimated from the command's start to SERVE (steps before the deploy + median SERVE; %s):\n", note)
	for i, t := range tables {
		if serves[i] >= 0 {
			fmt.Fprintf(b, "  %-72s %8s\n", t.scenario.short, fmtDur(before+serves[i]))
		}
	}
}

func hasMage(fixed []cost) bool {
	for _, c := range fixed {
		if strings.Contains(c.name, "mage.go") {
			return true
		}
	}
	return false
}

// fmtDur prints a duration for the table: 1.23s, 456ms, 7.8ms.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%dms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
}

func orDash(d time.Duration, ok bool) string {
	if !ok {
		return "-"
	}
	return fmtDur(d)
}
