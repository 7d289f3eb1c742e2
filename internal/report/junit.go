package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// JUnitFile is the JUnit report's name in a results dir.
const JUnitFile = "junit.xml"

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Props     []junitProp `xml:"properties>property,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes s's thresholds as JUnit XML: one test suite for the
// run, one test case per threshold, failed thresholds as failures. The
// output depends only on s, so it is byte-stable for a given summary.
func WriteJUnit(w io.Writer, s *metrics.Summary) error {
	class := "floodgate.thresholds." + s.Plan
	dur := strconv.FormatFloat(s.DurationS, 'f', 3, 64)
	suite := junitSuite{Name: class, Tests: len(s.Thresholds), Time: dur, Timestamp: s.StartTime.UTC().Format("2006-01-02T15:04:05")}
	suite.Props = append(suite.Props, junitProp{"target", s.Target})
	if s.StopReason != "" {
		suite.Props = append(suite.Props, junitProp{"stop_reason", s.StopReason})
	}
	for _, t := range s.Thresholds {
		c := junitCase{Name: t.Threshold, Classname: class, Time: "0", SystemOut: t.Detail}
		if !t.Passed {
			suite.Failures++
			text := t.Detail
			if t.Position != "" {
				text = t.Position + ": " + t.Detail
			}
			c.Failure = &junitFailure{Message: t.Detail, Type: "threshold", Text: text}
			c.SystemOut = ""
		}
		suite.Cases = append(suite.Cases, c)
	}
	doc := junitSuites{Name: "floodgate " + s.Plan, Tests: suite.Tests, Failures: suite.Failures, Time: dur, Suites: []junitSuite{suite}}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err = io.WriteString(w, xml.Header+string(out)+"\n")
	return err
}

// WriteJUnitFile writes the JUnit report to path through a temporary
// file, so a reader never sees half of it.
func WriteJUnitFile(path string, s *metrics.Summary) error {
	var b bytes.Buffer
	if err := WriteJUnit(&b, s); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
