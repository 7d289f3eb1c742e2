// Package jtl reads JMeter result files (JTL) and turns them into
// floodgate results, so that `floodgate report results.jtl` gives a
// JMeter run the same summary, HTML report and diagnosis as a floodgate
// run.
//
// Read takes both formats: CSV with its header line (JMeter's default
// since 2.13; any delimiter; timeStamp in milliseconds or a formatted
// date) and XML (<testResults> of <httpSample t= lt= ts= s= lb= rc= rm=
// tn= by= .../> and <sample>). Transaction-controller parent samples are
// left out (their requests are samples of their own); response headers
// saved in XML files feed the rate-limit readings.
//
// Results replays the samples in time order through a metrics.Recorder:
// per-label steps under per-thread-group scenarios, one-second buckets,
// HDR histograms. What a JTL does not hold is reconstructed and said so
// in Summary.Notes: in-flight requests come from the samples' [start,
// end) intervals. WriteCSV writes samples back as a CSV JTL.
package jtl
