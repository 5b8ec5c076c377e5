package github

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Annotate writes err as ::error:: workflow commands, one per error joined
// with errors.Join, so GitHub Actions shows each on the run's page. A nil
// err writes nothing.
func Annotate(w io.Writer, err error) error {
	if err == nil {
		return nil
	}
	var b strings.Builder
	for _, e := range leaves(err) {
		b.WriteString("::error::" + escapeCommandData(e.Error()) + "\n")
	}
	if _, werr := io.WriteString(w, b.String()); werr != nil {
		return fmt.Errorf("write annotation: %w", werr)
	}
	return nil
}

// leaves splits errors joined with errors.Join (at any depth) into their
// parts; any other error is one part.
func leaves(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		if e != nil {
			out = append(out, leaves(e)...)
		}
	}
	return out
}

// escapeCommandData escapes the message of a workflow command: "%" first,
// then carriage returns and line feeds, so that the text stays one command
// and cannot start another.
func escapeCommandData(s string) string {
	s = strings.ReplaceAll(s, "%", "%25")
	s = strings.ReplaceAll(s, "\r", "%0D")
	return strings.ReplaceAll(s, "\n", "%0A")
}

// WriteStepSummary appends StepSummary(r) to the file named by
// $GITHUB_STEP_SUMMARY; outside GitHub Actions (no such variable) it does
// nothing.
func WriteStepSummary(env func(string) string, r PreviewReport) (err error) {
	path := env("GITHUB_STEP_SUMMARY")
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open step summary: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close step summary: %w", cerr))
		}
	}()
	return StepSummary(f, r)
}
