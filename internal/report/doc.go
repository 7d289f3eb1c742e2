// Package report renders a run's results for people and machines: the
// end-of-run text summary (and, later, HTML and JUnit) from a
// metrics.Summary.
//
// It also checks a plan's thresholds (thresholds.go; their grammar is in
// package plan): EvaluateThresholds at the end of a run, over the summary
// and the histograms (for any percentile, and for several steps at
// once); a Watcher every second for those with abort_on_fail. WriteChecks
// adds the step failures and thresholds to the text summary, WriteJUnit
// writes them as junit.xml.
package report
