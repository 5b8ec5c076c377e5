package itest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The .jsonl files are recorded `go test -json` output: pass, wrong-commit
// and unreachable from ./sample-app/integration (in-process, against a
// binary built from another commit, against a closed port); mixed, mainfail,
// broken and panics from small throwaway packages that cover subtests,
// skips, parallel tests, a failing TestMain, a build failure and a panic.
func TestParserSummarisesRecordedStreams(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded streams in testdata (err %v)", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".jsonl")
		t.Run(name, func(t *testing.T) {
			stream, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := describe(t, stream)
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden file (run `go test ./internal/itest -run Parser -update` to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("parse %s:\n--- got\n%s\n--- want\n%s", file, got, want)
			}
		})
	}
}

// describe parses stream and renders everything Run would report about it.
func describe(t *testing.T, stream []byte) string {
	t.Helper()
	var progress bytes.Buffer
	p := newParser(&progress)
	if _, err := p.Write(stream); err != nil {
		t.Fatal(err)
	}
	p.flush()
	res := p.result()
	res.Target = Target{BaseURL: "http://pr-42.app.localhost:8080"}
	if p.events > 0 { // as Suite.Run reads it
		res.CountsFrom = goStream
	}

	var b strings.Builder
	fmt.Fprintf(&b, "progress:\n%s", progress.String())
	fmt.Fprintf(&b, "counts: passed=%d failed=%d skipped=%d\n", res.Passed, res.Failed, res.Skipped)
	for _, f := range res.Failures {
		fmt.Fprintf(&b, "failure: %s\n", f)
	}
	fmt.Fprintf(&b, "ran tests: %v, build failed: %v, ok: %v\n", p.ranTests(), p.buildFailed, res.OK())
	fmt.Fprintf(&b, "summary: %s\n", res.Summary())
	return b.String()
}

func TestParserJoinsLinesSplitAcrossWrites(t *testing.T) {
	stream, err := os.ReadFile(filepath.Join("testdata", "mixed.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	whole := describe(t, stream)

	var progress bytes.Buffer
	p := newParser(&progress)
	for chunk := range slices.Chunk(stream, 7) {
		if _, err := p.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	p.flush()
	if got := p.result(); got.Passed != 5 || got.Failed != 3 || got.Skipped != 1 {
		t.Errorf("chunked: passed=%d failed=%d skipped=%d, want 5, 3, 1 as in:\n%s",
			got.Passed, got.Failed, got.Skipped, whole)
	}
	if !strings.Contains(p.result().Output, "just a log line") {
		t.Error("chunked: Output lost the tests' log lines")
	}
}

func TestParserKeepsLinesThatAreNotEvents(t *testing.T) {
	p := newParser(nil)
	_, _ = p.Write([]byte("go: downloading example.com/x v1.0.0\n{not json\n"))
	p.flush()
	if out := p.result().Output; out != "go: downloading example.com/x v1.0.0\n{not json\n" {
		t.Errorf("Output = %q, want the raw lines", out)
	}
	if p.ranTests() {
		t.Error("ranTests() = true with no test events")
	}
}
