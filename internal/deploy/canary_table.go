package deploy

import (
	"bytes"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// CanaryStep is what one canary step saw and decided: a row of the table a
// canary release ends with.
type CanaryStep struct {
	Percent  int           // the new stack's share of production
	Baked    time.Duration // from the split to the verdict
	Extended bool          // baked past Bake for want of requests
	New, Old TrafficSample // the new stack's counters over the step, the old stacks' together
	Verdict  string
}

// Verdicts on a canary step (a failed analysis says which figures failed:
// "failed: error rate", "failed: latency").
const (
	VerdictPassed          = "passed"
	VerdictFailedEarly     = "failed early: error rate"
	VerdictUnhealthy       = "failed: unhealthy"
	VerdictUnjudged        = "failed: too few requests"
	VerdictUnjudgedAllowed = "unjudged (allowed)"
	VerdictAllTraffic      = "all traffic: nothing left to compare"
	VerdictNotReached      = "not reached"
	VerdictNotSet          = "failed: split not set"
	VerdictNoFigures       = "failed: no figures"
	VerdictInterrupted     = "interrupted"
)

// reportSteps writes the steps' table where Strategy.Report says.
func (f *Flow) reportSteps(stack string, rows []CanaryStep) {
	w := f.Strategy.Report
	if w == nil {
		w = f.Log
	}
	if w == nil {
		return
	}
	if err := PrintCanarySteps(w, stack, rows); err != nil {
		f.logf("canary: warning: print the steps' figures: %v", err)
	}
}

// PrintCanarySteps writes a canary's steps as a table: per step the new
// stack's share, how long it baked, its requests, errors, error rate and
// mean latency next to the old stacks', and the verdict. It is written in
// one piece, so a log that takes a line per write keeps it whole.
func PrintCanarySteps(w io.Writer, stack string, rows []CanaryStep) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "canary of %s:\n", stack)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WEIGHT\tBAKED\tREQUESTS\tERRORS\tERROR RATE\tOLD RATE\tLATENCY\tOLD LATENCY\tVERDICT")
	for _, r := range rows {
		if r.Baked == 0 {
			fmt.Fprintf(tw, "%d%%\t-\t-\t-\t-\t-\t-\t-\t%s\n", r.Percent, r.Verdict)
			continue
		}
		baked := duration(r.Baked)
		if r.Extended {
			baked += " (extended)"
		}
		fmt.Fprintf(tw, "%d%%\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", r.Percent, baked, r.New.Requests, r.New.Errors,
			percent(r.New), percent(r.Old), latency(r.New), latency(r.Old), r.Verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

func percent(s TrafficSample) string {
	if s.Requests == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", rate(s)*100)
}

func latency(s TrafficSample) string {
	if s.Requests == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f ms", mean(s)*1000)
}
