package itest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The testdata/junit reports are in the shapes each runner writes: pytest
// --junitxml (one <testsuite> in <testsuites>, skips with a type),
// jest-junit (the class name repeated in the name, failures as text only),
// gotestsum --junitfile (message "Failed", the test's output as text, a
// subtest and its parent both listed) and a Maven Surefire TEST-*.xml (a
// <testsuite> root, a failure and an error, CDATA stack traces).
func TestJUnitReportsOfEachRunnerAreCounted(t *testing.T) {
	tests := []struct {
		file                    string
		passed, failed, skipped int
		failures                []string
	}{
		{"pytest.xml", 2, 1, 1, []string{
			"tests.test_api.test_version_reports_commit: AssertionError: GET /version reports commit 'abc1234', want 'c0ffee0'",
		}},
		{"jest-junit.xml", 3, 1, 1, []string{
			"api GET /api/cart keeps the items added: Error: expect(received).toBe(expected) // Object.is equality",
		}},
		{"gotestsum.xml", 3, 1, 1, []string{
			"example.com/orders/e2e.TestCreateOrder: orders_test.go:31: POST /orders: status 500, want 201",
		}},
		{"surefire.xml", 1, 2, 1, []string{
			"com.example.shop.ShopIT.cartKeepsItems: expected: <200> but was: <500>",
			"com.example.shop.ShopIT.checkout: Connection refused",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			var res Result
			if err := readReport(filepath.Join("testdata", "junit", tc.file), &res); err != nil {
				t.Fatal(err)
			}
			if res.Passed != tc.passed || res.Failed != tc.failed || res.Skipped != tc.skipped {
				t.Errorf("counts %d passed, %d failed, %d skipped; want %d, %d, %d",
					res.Passed, res.Failed, res.Skipped, tc.passed, tc.failed, tc.skipped)
			}
			if !slices.Equal(res.Failures, tc.failures) {
				t.Errorf("failures:\n%q\nwant\n%q", res.Failures, tc.failures)
			}
		})
	}
}

func TestAFileThatIsNotAJUnitReportIsAnErrorSayingWhatToDo(t *testing.T) {
	tests := map[string]struct{ text, want string }{
		"an HTML page":   {"<html><body>coverage</body></html>", "its root element is <html>, not <testsuites> or <testsuite>: make test.junit name the JUnit XML file"},
		"a cut-off file": {`<testsuites><testsuite name="x"><testcase name="a">`, "XML syntax error"},
		"an empty file":  {"", "it holds no XML element: make test.junit name the JUnit XML file"},
		"JSON":           {`{"numFailedTests": 0}`, "make test.junit name the JUnit XML file"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "junit.xml")
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			var res Result
			err := readReport(path, &res)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("readReport() error = %v, want one naming %s and saying %q", err, path, tc.want)
			}
		})
	}
}

// A report file from an earlier run is removed before the command starts;
// in a directory of reports, the files older than the run are not read.
func TestAReportFromAnEarlierRunIsNotRead(t *testing.T) {
	dir := t.TempDir()
	surefire, err := os.ReadFile(filepath.Join("testdata", "junit", "surefire.xml"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "junit.xml")
	if err := os.WriteFile(file, surefire, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := prepare(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.read(&Result{}); err != errNoReport {
		t.Errorf("a report left from an earlier run: read() = %v, want errNoReport", err)
	}

	reports := filepath.Join(dir, "surefire-reports")
	old := filepath.Join(reports, "TEST-com.example.shop.OldIT.xml")
	if err := os.MkdirAll(reports, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, surefire, 0o644); err != nil {
		t.Fatal(err)
	}
	hourAgo := time.Now().Add(-time.Hour)
	if err := os.Chtimes(old, hourAgo, hourAgo); err != nil {
		t.Fatal(err)
	}
	if r, err = prepare(reports); err != nil || !r.dir {
		t.Fatalf("prepare(directory) = %+v, %v", r, err)
	}
	if err := r.read(&Result{}); err != errNoReport {
		t.Errorf("only an old report in the directory: read() = %v, want errNoReport", err)
	}
	if _, err := os.Stat(old); err != nil {
		t.Errorf("the old report in a directory was touched: %v", err)
	}
}
