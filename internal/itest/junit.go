package itest

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// JUnit XML reports, as pytest (--junitxml), jest-junit, gotestsum
// (--junitfile) and Maven Surefire and Failsafe write them: a <testsuites>
// or <testsuite> root, suites possibly nested, each <testcase> failed when
// it has a <failure> or an <error>, skipped when it has a <skipped>, else
// passed. The suites' own count attributes are not trusted: the test cases
// are counted. A report may also be a directory of *.xml reports (Maven
// writes one file per test class).

type junitSuite struct {
	XMLName xml.Name
	Suites  []junitSuite `xml:"testsuite"`
	Cases   []junitCase  `xml:"testcase"`
}

type junitCase struct {
	Name      string         `xml:"name,attr"`
	Classname string         `xml:"classname,attr"`
	Failures  []junitProblem `xml:"failure"`
	Errors    []junitProblem `xml:"error"`
	Skipped   *junitProblem  `xml:"skipped"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// errNoReport: the command wrote no report where test.junit says.
var errNoReport = errors.New("no JUnit report")

// report is where a suite's JUnit report is and what was there before the
// run, so that a report left over from an earlier run is never read as
// this run's.
type report struct {
	path  string
	dir   bool      // a directory of reports
	start time.Time // reports in a directory older than this are stale
}

// prepare removes a report file an earlier run left, or notes the start
// of the run for a directory of reports (whose stale files stay, unread).
func prepare(path string) (report, error) {
	r := report{path: path, start: time.Now()}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return r, nil
	case err != nil:
		return r, fmt.Errorf("check the JUnit report %s (test.junit): %w", path, err)
	case fi.IsDir():
		r.dir = true
		return r, nil
	}
	if err := os.Remove(path); err != nil {
		return r, fmt.Errorf("remove the JUnit report %s left by an earlier run (test.junit): %w: remove it, or make it writable", path, err)
	}
	return r, nil
}

// read counts the report this run wrote into res. It returns errNoReport
// when there is none, and an error naming the file when one cannot be
// parsed.
func (r report) read(res *Result) error {
	files := []string{r.path}
	fi, err := os.Stat(r.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errNoReport
	case err != nil:
		return fmt.Errorf("read the JUnit report %s: %w", r.path, err)
	case fi.IsDir():
		if files, err = r.fresh(); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := readReport(f, res); err != nil {
			return err
		}
	}
	return nil
}

// fresh lists the *.xml files in the report directory written during the
// run; none is errNoReport.
func (r report) fresh() ([]string, error) {
	entries, err := os.ReadDir(r.path)
	if err != nil {
		return nil, fmt.Errorf("read the JUnit reports in %s: %w", r.path, err)
	}
	var files []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".xml") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("read the JUnit reports in %s: %w", r.path, err)
		}
		// Whole seconds: some file systems keep no finer modification times.
		if !fi.ModTime().Before(r.start.Truncate(time.Second)) {
			files = append(files, filepath.Join(r.path, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, errNoReport
	}
	slices.Sort(files)
	return files, nil
}

// readReport parses one report file and adds its test cases to res.
func readReport(path string, res *Result) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read the JUnit report %s: %w", path, err)
	}
	var root junitSuite
	err = xml.Unmarshal(data, &root)
	if errors.Is(err, io.EOF) {
		err = errors.New("it holds no XML element")
	}
	if err != nil {
		return fmt.Errorf("parse the JUnit report %s: %w: make test.junit name the JUnit XML file the test command writes", path, err)
	}
	if n := root.XMLName.Local; n != "testsuites" && n != "testsuite" {
		return fmt.Errorf("parse the JUnit report %s: its root element is <%s>, not <testsuites> or <testsuite>: make test.junit name the JUnit XML file the test command writes", path, n)
	}
	root.count(res)
	return nil
}

func (s junitSuite) count(res *Result) {
	for _, c := range s.Cases {
		switch {
		case len(c.Failures)+len(c.Errors) > 0:
			res.Failed++
			res.Failures = append(res.Failures, c.title()+": "+c.message())
		case c.Skipped != nil:
			res.Skipped++
		default:
			res.Passed++
		}
	}
	for _, sub := range s.Suites {
		sub.count(res)
	}
}

// title names a test case as its runner does: Class.method for Maven,
// package.TestName for gotestsum, module.test_name for pytest. jest-junit
// repeats the class name in the name by default: the name alone then.
func (c junitCase) title() string {
	if c.Classname == "" || strings.Contains(c.Name, c.Classname) {
		return c.Name
	}
	return c.Classname + "." + c.Name
}

var ansiRe = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// message is the first line of the test case's first failure or error:
// its message attribute, else its text (gotestsum's message is always
// "Failed", so its text, the test's output, is read instead).
func (c junitCase) message() string {
	var p junitProblem
	if len(c.Failures) > 0 {
		p = c.Failures[0]
	} else {
		p = c.Errors[0]
	}
	msg := ""
	if m := strings.TrimSpace(p.Message); m != "" && m != "Failed" {
		msg = firstMessage([]string{m}, "")
	}
	if msg == "" {
		msg = firstMessage([]string{p.Text}, "")
	}
	if msg == "" {
		msg = firstMessage([]string{p.Type}, "failed without a message")
	}
	return shorten(ansiRe.ReplaceAllString(msg, ""), 200)
}
