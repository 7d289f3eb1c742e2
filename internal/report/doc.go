// Package report renders a run's results for people and machines: the
// end-of-run text summary (and, later, HTML and JUnit) from a
// metrics.Summary.
package report
