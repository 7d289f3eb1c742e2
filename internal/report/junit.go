package report

import (
	"bytes"
	"github.com/floodgate-dev/floodgate/internal/junit"
	"io"
	"strconv"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// JUnitFile is the JUnit report's name in a results dir.
const JUnitFile = "junit.xml"

// WriteJUnit writes s's thresholds as JUnit XML: one test suite for the
// run, one test case per threshold, failed thresholds as failures. The
// output depends only on s, so it is byte-stable for a given summary.
func WriteJUnit(w io.Writer, s *metrics.Summary) error {
	class := "floodgate.thresholds." + s.Plan
	dur := strconv.FormatFloat(s.DurationS, 'f', 3, 64)
	suite := junit.Suite{Name: class, Time: dur, Timestamp: s.StartTime.UTC().Format("2006-01-02T15:04:05")}
	suite.Props = append(suite.Props, junit.Prop{Name: "target", Value: s.Target})
	if s.StopReason != "" {
		suite.Props = append(suite.Props, junit.Prop{Name: "stop_reason", Value: s.StopReason})
	}
	for _, t := range s.Thresholds {
		c := junit.Case{Name: t.Threshold, Classname: class, Time: "0", SystemOut: t.Detail}
		if !t.Passed {
			text := t.Detail
			if t.Position != "" {
				text = t.Position + ": " + t.Detail
			}
			c.Failure = &junit.Failure{Message: t.Detail, Type: "threshold", Text: text}
			c.SystemOut = ""
		}
		suite.Cases = append(suite.Cases, c)
	}
	return junit.Write(w, "floodgate "+s.Plan, suite)
}

// WriteJUnitFile writes the JUnit report to path through a temporary
// file, so a reader never sees half of it.
func WriteJUnitFile(path string, s *metrics.Summary) error {
	var b bytes.Buffer
	if err := WriteJUnit(&b, s); err != nil {
		return err
	}
	return metrics.WriteFileAtomic(path, b.Bytes())
}
