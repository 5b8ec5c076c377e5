package commands

import (
	"errors"
	"fmt"
	"os"

	"github.com/slipway/slipway/internal/deploy"
	"github.com/slipway/slipway/internal/github"
)

// showTiming ends a command with where its time went, as one table on
// stderr: it is for the person watching, like the progress above it, and
// stdout stays the result a script reads (a URL, a stack name). With
// summary, in Actions, the table is also appended to the step summary (a
// preview's is part of its report there and on the pull request).
func showTiming(s *Session, t *deploy.Timing, summary bool) {
	if t == nil {
		return
	}
	if err := deploy.WriteTiming(s.Err, *t); err != nil {
		fmt.Fprintf(s.Err, "warning: timing: %v\n", err)
	}
	path := os.Getenv("GITHUB_STEP_SUMMARY")
	if !summary || path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintf(s.Err, "warning: step summary: %v\n", err)
		return
	}
	if err := errors.Join(github.TimingSummary(f, *t), f.Close()); err != nil {
		fmt.Fprintf(s.Err, "warning: step summary: %v\n", err)
	}
}
