package report

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/floodgate-dev/floodgate/internal/diagnose"
	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// HTMLFile is the HTML report's name in a results dir.
const HTMLFile = "report.html"

//go:embed assets/report.html.tmpl assets/report.css
var assets embed.FS

var pageTmpl = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"code": codeSpans,
}).ParseFS(assets, "assets/report.html.tmpl"))

// WriteHTML writes the self-contained HTML report of res: the diagnosis
// on top, thresholds when the summary has them, charts over time drawn
// as inline SVG, per-step tables. It loads nothing from anywhere (no
// script, fonts or styles from outside; a Content-Security-Policy says
// so), and depends only on res and d, so it is byte-stable. d nil means
// diagnose.Analyze(res).
func WriteHTML(w io.Writer, res *metrics.Results, d *diagnose.Diagnosis) error {
	raw, err := json.Marshal(res.Summary)
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return writeHTML(w, res, d, thresholdsFrom(raw))
}

// WriteHTMLFile writes the HTML report to path through a temporary file,
// so a reader never sees half of it.
func WriteHTMLFile(path string, res *metrics.Results, d *diagnose.Diagnosis) error {
	var b bytes.Buffer
	if err := WriteHTML(&b, res, d); err != nil {
		return err
	}
	return metrics.WriteFileAtomic(path, b.Bytes())
}

// WriteHTMLDir renders the results dir dir into out (dir/report.html
// when out is ""), re-running the diagnosis, and returns the path
// written. Thresholds are read from summary.json as they are, so a
// summary written by any version renders.
func WriteHTMLDir(dir, out string) (string, error) {
	res, err := metrics.ReadDir(dir)
	if err != nil {
		return "", err
	}
	raw, err := os.ReadFile(filepath.Join(dir, metrics.SummaryFile))
	if err != nil {
		return "", fmt.Errorf("html report: %w", err)
	}
	if out == "" {
		out = filepath.Join(dir, HTMLFile)
	}
	var b bytes.Buffer
	if err := writeHTML(&b, res, diagnose.Analyze(res), thresholdsFrom(raw)); err != nil {
		return "", err
	}
	return out, metrics.WriteFileAtomic(out, b.Bytes())
}

// thresholdRow is one threshold as the report shows it. summary.json's
// "thresholds" entries are read loosely (expr or threshold, ok or
// passed), so the page renders whichever version wrote them.
type thresholdRow struct {
	Expr, Value, Detail, Position string
	Passed, Aborted               bool
}

func thresholdsFrom(summary []byte) []thresholdRow {
	var doc struct {
		Thresholds []map[string]json.RawMessage `json:"thresholds"`
	}
	if json.Unmarshal(summary, &doc) != nil {
		return nil
	}
	var rows []thresholdRow
	str := func(m map[string]json.RawMessage, keys ...string) string {
		for _, k := range keys {
			var s string
			if v, ok := m[k]; ok && json.Unmarshal(v, &s) == nil {
				return s
			}
		}
		return ""
	}
	boolean := func(m map[string]json.RawMessage, keys ...string) bool {
		for _, k := range keys {
			var b bool
			if v, ok := m[k]; ok && json.Unmarshal(v, &b) == nil {
				return b
			}
		}
		return false
	}
	for _, m := range doc.Thresholds {
		r := thresholdRow{Expr: str(m, "expr", "threshold"), Detail: str(m, "detail"), Position: str(m, "position"),
			Passed: boolean(m, "ok", "passed"), Aborted: boolean(m, "aborted")}
		if v, ok := m["value"]; ok {
			var f float64
			if string(v) == "null" {
				r.Value = "no samples"
			} else if json.Unmarshal(v, &f) == nil {
				switch u := str(m, "unit"); u {
				case "ms":
					r.Value = num(f) + " ms"
				case "ratio":
					r.Value = trimZero(strconv.FormatFloat(f*100, 'f', 2, 64)) + "%"
				case "per_s":
					r.Value = trimZero(strconv.FormatFloat(f, 'f', 1, 64)) + "/s"
				default:
					r.Value = trimZero(strconv.FormatFloat(f, 'f', 3, 64))
					if u != "" {
						r.Value += " " + u
					}
				}
			} else {
				var s string
				if json.Unmarshal(v, &s) == nil {
					r.Value = s
				}
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// Colours of walls, statuses and series; the CSS uses the same.
var kindColor = map[diagnose.Kind]string{
	diagnose.RateLimit:      "#dc2626",
	diagnose.ConcurrencyCap: "#9333ea",
	diagnose.Authorization:  "#a16207",
	diagnose.Saturation:     "#b45309",
	diagnose.GeneratorBound: "#0369a1",
}

type page struct {
	Title, Plan, Target, PlanFile, Segment string
	Start, End, Duration                   string
	State, StateClass, StopReason          string
	Generator, Robbed                      string
	Verdict                                string
	Findings                               []pageFinding
	Thresholds                             []thresholdRow
	ThresholdsFailed                       int
	Tiles                                  []tile
	Charts                                 []*chart
	Bucket                                 string // "1 s" or "5 s" when downsampled
	Steps                                  []stepRow
	Statuses, Errors                       string
	Lost                                   []metrics.LostRequest
	LostMore                               int64
	Schema                                 string
	CSS                                    template.CSS
}

type pageFinding struct {
	diagnose.Finding
	Title, Color, Confidence, Onset string
}

type tile struct {
	Label, Value, Note, Class string
}

type stepRow struct {
	Name, Executor                      string
	Indent                              bool
	Requests, OK, Failed, Lost, Dropped string
	Attempts, Retries, Achieved         string
	P50Due, P99Due, P50Send, P99Send    string
	Statuses                            []string
	Bad                                 bool
}

func writeHTML(w io.Writer, res *metrics.Results, d *diagnose.Diagnosis, ths []thresholdRow) error {
	if d == nil {
		d = diagnose.Analyze(res)
	}
	s := res.Summary
	css, err := assets.ReadFile("assets/report.css")
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	p := &page{
		Title: "floodgate: " + s.Plan, Plan: s.Plan, Target: s.Target, PlanFile: s.PlanFile, Segment: s.Segment,
		Start: stamp(s.StartTime), End: stamp(s.EndTime), Duration: diagnose.Seconds(s.DurationS),
		State: "completed", StateClass: "ok", StopReason: s.StopReason,
		Verdict: d.Verdict, Thresholds: ths, Schema: s.Schema, CSS: template.CSS(css),
		Statuses: counts(s.Statuses), Lost: s.LostRequests, LostMore: s.Lost - int64(len(s.LostRequests)),
	}
	if g := s.Generator; g != nil {
		p.Generator = "generator: " + generatorText(g, s.DurationS)
		if g.Robbed(s.DurationS) {
			p.Robbed = robbedText
		}
	}
	switch {
	case s.Aborted:
		p.State, p.StateClass = "aborted: in-flight requests were cut off", "bad"
	case s.Interrupted:
		p.State, p.StateClass = "interrupted: results cover what ran", "warn"
	}
	if len(s.Errors) > 0 {
		p.Errors = counts(s.Errors)
	}
	if len(p.Lost) > 20 {
		p.LostMore += int64(len(p.Lost) - 20)
		p.Lost = p.Lost[:20]
	}
	for _, t := range ths {
		if !t.Passed {
			p.ThresholdsFailed++
		}
	}
	for _, f := range d.Findings {
		p.Findings = append(p.Findings, pageFinding{Finding: f, Title: f.Kind.Title(), Color: kindColor[f.Kind],
			Confidence: strconv.Itoa(int(math.Round(f.Confidence*100))) + "%", Onset: diagnose.OnsetText(f)})
	}
	p.Tiles = tiles(s)
	p.Steps = steps(s)
	series, width := downsample(res.Series)
	p.Bucket = diagnose.Seconds(width)
	p.Charts = charts(series, d)
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, p); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	_, err = w.Write(b.Bytes())
	return err
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// codeSpans escapes s and turns `quoted` parts into <code>.
func codeSpans(s string) template.HTML {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, part := range parts {
		esc := template.HTMLEscapeString(part)
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString("<code>" + esc + "</code>")
		} else {
			if i%2 == 1 {
				b.WriteString("`")
			}
			b.WriteString(esc)
		}
	}
	return template.HTML(b.String())
}

func tiles(s *metrics.Summary) []tile {
	failed := s.Requests - s.Succeeded
	t := []tile{
		{Label: "requests", Value: diagnose.Count(s.Requests), Note: diagnose.Count(s.Attempts) + " attempts"},
		{Label: "succeeded", Value: diagnose.Count(s.Succeeded), Note: share(s.Succeeded, s.Requests)},
		{Label: "failed", Value: diagnose.Count(failed), Note: share(failed, s.Requests)},
		{Label: "lost", Value: diagnose.Count(s.Lost), Note: "out of retries or budget"},
		{Label: "dropped", Value: diagnose.Count(s.Dropped), Note: "no VU free when due"},
		{Label: "achieved", Value: diagnose.Rate(s.AchievedRate), Note: "offered " + diagnose.Rate(s.OfferedRate)},
		{Label: "p50 from due", Value: num(s.Latency.FromDue.P50) + " ms", Note: "from send " + num(s.Latency.FromSend.P50) + " ms"},
		{Label: "p99 from due", Value: num(s.Latency.FromDue.P99) + " ms", Note: "from send " + num(s.Latency.FromSend.P99) + " ms"},
	}
	if failed > 0 {
		t[2].Class = "bad"
	}
	if s.Lost > 0 {
		t[3].Class = "bad"
	}
	if s.Dropped > 0 {
		t[4].Class = "warn"
	}
	if s.Retries > 0 {
		t[0].Note += fmt.Sprintf(" (%.2f× amplification)", s.RetryAmplification)
	}
	return t
}

func share(n, of int64) string {
	if of == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(n)/float64(of), 'f', 1, 64) + "%"
}

func steps(s *metrics.Summary) []stepRow {
	row := func(name, ex string, indent bool, st *metrics.Stats) stepRow {
		failed := st.Requests - st.Succeeded
		return stepRow{Name: name, Executor: ex, Indent: indent,
			Requests: diagnose.Count(st.Requests), OK: diagnose.Count(st.Succeeded), Failed: diagnose.Count(failed),
			Lost: diagnose.Count(st.Lost), Dropped: diagnose.Count(st.Dropped), Attempts: diagnose.Count(st.Attempts),
			Retries: diagnose.Count(st.Retries), Achieved: diagnose.Rate(st.AchievedRate),
			P50Due: num(st.Latency.FromDue.P50), P99Due: num(st.Latency.FromDue.P99),
			P50Send: num(st.Latency.FromSend.P50), P99Send: num(st.Latency.FromSend.P99),
			Statuses: strings.Split(counts(st.Statuses), " · "), Bad: failed > 0 || st.Lost > 0}
	}
	var rows []stepRow
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		rows = append(rows, row(sc.Name, sc.Executor, false, &sc.Stats))
		if len(sc.Steps) > 1 {
			for j := range sc.Steps {
				rows = append(rows, row(sc.Steps[j].Name, "", true, &sc.Steps[j].Stats))
			}
		} else if len(sc.Steps) == 1 {
			rows[len(rows)-1].Name += " / " + sc.Steps[0].Name
		}
	}
	if len(s.Scenarios) > 1 {
		rows = append(rows, row("total", "", false, &s.Stats))
	}
	return rows
}

// maxPoints bounds the buckets drawn; longer runs are drawn in wider
// buckets.
const maxPoints = 600

// downsample merges consecutive buckets so that at most maxPoints
// remain, and returns them with their nominal width in seconds. A last
// bucket shorter than half a second joins the one before it, so that
// per-second rates do not spike at the end. Counts add; in-flight peaks
// and latency percentiles take the highest (the worst second shows);
// means are weighted.
func downsample(in []metrics.Bucket) ([]metrics.Bucket, float64) {
	if n := len(in); n >= 2 && in[n-1].Seconds < 0.5 {
		in = append(append([]metrics.Bucket(nil), in[:n-2]...), mergeBuckets(in[n-2:]))
	}
	if len(in) <= maxPoints {
		return in, 1
	}
	g := (len(in) + maxPoints - 1) / maxPoints
	var out []metrics.Bucket
	for i := 0; i < len(in); i += g {
		out = append(out, mergeBuckets(in[i:min(i+g, len(in))]))
	}
	return out, float64(g)
}

// mergeBuckets draws consecutive buckets as one: metrics' AddCounts for
// what adds up, the in-flight peak and a time-weighted mean here.
func mergeBuckets(grp []metrics.Bucket) metrics.Bucket {
	m := metrics.Bucket{T: grp[0].T, Time: grp[0].Time, Flow: metrics.Flow{Statuses: map[string]int64{}}}
	var mean float64
	for i := range grp {
		b := &grp[i]
		m.Seconds += b.Seconds
		m.InFlightMax = max(m.InFlightMax, b.InFlightMax)
		mean += b.InFlightMean * b.Seconds
		m.AddCounts(b)
	}
	if m.Seconds > 0 {
		m.InFlightMean = mean / m.Seconds
	}
	return m
}

// Status classes drawn in the status chart, bottom-up.
var statusClasses = []struct {
	name, color string
	match       func(int) bool
}{
	{"2xx", "#16a34a", func(c int) bool { return c >= 200 && c < 300 }},
	{"3xx", "#0891b2", func(c int) bool { return c >= 300 && c < 400 }},
	{"4xx other", "#f59e0b", func(c int) bool { return c >= 400 && c < 500 && c != 401 && c != 403 && c != 429 }},
	{"401", "#a16207", func(c int) bool { return c == 401 }},
	{"403", "#9333ea", func(c int) bool { return c == 403 }},
	{"429", "#dc2626", func(c int) bool { return c == 429 }},
	{"5xx", "#7f1d1d", func(c int) bool { return c >= 500 }},
	{"no response", "#6b7280", func(c int) bool { return c == 0 }},
}

func charts(bs []metrics.Bucket, d *diagnose.Diagnosis) []*chart {
	n := len(bs)
	T, W := make([]float64, n), make([]float64, n)
	col := func(f func(b *metrics.Bucket) float64) []float64 {
		ys := make([]float64, n)
		for i := range bs {
			ys[i] = f(&bs[i])
		}
		return ys
	}
	per := func(f func(b *metrics.Bucket) float64) []float64 {
		return col(func(b *metrics.Bucket) float64 {
			if b.Seconds <= 0 {
				return math.NaN()
			}
			return f(b) / b.Seconds
		})
	}
	for i, b := range bs {
		T[i], W[i] = b.T, b.Seconds
	}
	var marks []mark
	for _, f := range d.Findings {
		marks = append(marks, mark{T: f.Onset.Time, Label: f.Kind.Title(), Color: kindColor[f.Kind]})
	}
	tip := func(i int) string { return tooltip(&bs[i]) }
	mk := func(id, title, unit string, ss ...series) *chart {
		return &chart{ID: id, Title: title, Unit: unit, T: T, W: W, Series: ss, Marks: marks, Tip: tip}
	}
	lat := func(f func(p *metrics.Percentiles) float64, due bool) []float64 {
		return col(func(b *metrics.Bucket) float64 {
			p := &b.FromSend
			if due {
				p = &b.FromDue
			}
			if p.Count == 0 {
				return math.NaN()
			}
			return f(p)
		})
	}

	rate := mk("rate", "Offered vs achieved", "per s",
		series{Name: "dropped", Color: "#ef4444", Bar: true, Y: per(func(b *metrics.Bucket) float64 { return float64(b.Dropped) })},
		series{Name: "offered", Color: "#6b7280", Dash: true, Y: per(func(b *metrics.Bucket) float64 { return float64(b.Offered) })},
		series{Name: "sent (attempts)", Color: "#2563eb", Y: per(func(b *metrics.Bucket) float64 { return float64(b.Attempts) })},
		series{Name: "achieved", Color: "#0d9488", Y: per(func(b *metrics.Bucket) float64 { return float64(b.Completed) })},
		series{Name: "goodput", Color: "#16a34a", Dash: true, Y: per(func(b *metrics.Bucket) float64 { return float64(b.Goodput) })},
	)
	rate.Note = "iterations due, attempts sent, requests completed and succeeded per second"

	latency := mk("latency", "Latency percentiles", "ms",
		series{Name: "p50 from due", Color: "#2563eb", Y: lat(func(p *metrics.Percentiles) float64 { return p.P50 }, true)},
		series{Name: "p90 from due", Color: "#f59e0b", Y: lat(func(p *metrics.Percentiles) float64 { return p.P90 }, true)},
		series{Name: "p99 from due", Color: "#dc2626", Y: lat(func(p *metrics.Percentiles) float64 { return p.P99 }, true)},
		series{Name: "p50 from send", Color: "#2563eb", Dash: true, Y: lat(func(p *metrics.Percentiles) float64 { return p.P50 }, false)},
		series{Name: "p99 from send", Color: "#dc2626", Dash: true, Y: lat(func(p *metrics.Percentiles) float64 { return p.P99 }, false)},
	)
	latency.Log = true
	latency.Note = "of requests completed each second, log scale; from due counts time waiting to be sent"

	var st []series
	for _, c := range statusClasses {
		ys := per(func(b *metrics.Bucket) float64 {
			var sum int64
			for k, v := range b.Statuses {
				if code, err := strconv.Atoi(k); err == nil && c.match(code) {
					sum += v
				}
			}
			return float64(sum)
		})
		any := false
		for _, y := range ys {
			any = any || y > 0
		}
		if any {
			st = append(st, series{Name: c.name, Color: c.color, Bar: true, Y: ys})
		}
	}
	statuses := mk("statuses", "Status codes", "per s", st...)
	statuses.Stacked = true
	statuses.Note = "attempts by status, stacked; 429 red, 403 purple"
	if len(st) == 0 {
		statuses.Note = "no attempts"
	}

	inflight := mk("inflight", "In flight", "requests",
		series{Name: "peak", Color: "#2563eb", Y: col(func(b *metrics.Bucket) float64 { return float64(b.InFlightMax) })},
		series{Name: "mean", Color: "#93c5fd", Y: col(func(b *metrics.Bucket) float64 { return b.InFlightMean })},
	)
	inflight.Note = "logical requests in flight (retries and waits included)"

	retries := mk("retries", "Retries, lost and waiting", "per s",
		series{Name: "lost", Color: "#dc2626", Bar: true, Y: per(func(b *metrics.Bucket) float64 { return float64(b.Lost) })},
		series{Name: "retries", Color: "#f59e0b", Y: per(func(b *metrics.Bucket) float64 { return float64(b.Retries) })},
		series{Name: "gate wait", Color: "#7c3aed", Right: true, Y: per(func(b *metrics.Bucket) float64 { return b.GateWaitMs / 1000 })},
		series{Name: "Retry-After wait", Color: "#db2777", Right: true, Dash: true, Y: per(func(b *metrics.Bucket) float64 { return b.RetryAfterWaitMs / 1000 })},
		series{Name: "backoff wait", Color: "#64748b", Right: true, Dash: true, Y: per(func(b *metrics.Bucket) float64 { return b.BackoffWaitMs / 1000 })},
	)
	retries.RightUnit = "s waited / s"
	retries.Note = "retries and lost requests per second; seconds spent waiting per second (right)"

	seen := false
	rl := func(f func(r *metrics.RateLimitPoint) float64) []float64 {
		return col(func(b *metrics.Bucket) float64 {
			if b.RateLimit == nil {
				return math.NaN()
			}
			seen = true
			return f(b.RateLimit)
		})
	}
	ratelimit := mk("ratelimit", "Rate-limit headers", "remaining",
		series{Name: "remaining (lowest)", Color: "#2563eb", Y: rl(func(r *metrics.RateLimitPoint) float64 { return float64(r.Remaining) })},
		series{Name: "reset (longest)", Color: "#f59e0b", Right: true, Y: rl(func(r *metrics.RateLimitPoint) float64 { return r.ResetS })},
	)
	ratelimit.RightUnit = "reset s"
	ratelimit.Note = "quota left and time to reset, as responses reported them"
	if !seen {
		ratelimit.Note = "no response carried rate-limit headers"
	}
	return []*chart{rate, latency, statuses, inflight, retries, ratelimit}
}

func tooltip(b *metrics.Bucket) string {
	var s strings.Builder
	fmt.Fprintf(&s, "t = %s s (%s s)\n", tickLabel(b.T), trimZero(strconv.FormatFloat(b.Seconds, 'f', 2, 64)))
	fmt.Fprintf(&s, "offered %d · sent %d · completed %d · ok %d", b.Offered, b.Attempts, b.Completed, b.Goodput)
	if b.Dropped > 0 {
		fmt.Fprintf(&s, " · dropped %d", b.Dropped)
	}
	fmt.Fprintf(&s, "\nin flight: peak %d, mean %s", b.InFlightMax, trimZero(strconv.FormatFloat(b.InFlightMean, 'f', 1, 64)))
	if len(b.Statuses) > 0 {
		keys := make([]string, 0, len(b.Statuses))
		for k := range b.Statuses {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		s.WriteString("\nstatuses:")
		for _, k := range keys {
			fmt.Fprintf(&s, " %s × %d", k, b.Statuses[k])
		}
	}
	if b.FromDue.Count > 0 {
		fmt.Fprintf(&s, "\nlatency from due p50 %s · p99 %s ms; from send p50 %s · p99 %s ms",
			num(b.FromDue.P50), num(b.FromDue.P99), num(b.FromSend.P50), num(b.FromSend.P99))
	}
	if b.Retries > 0 || b.Lost > 0 {
		fmt.Fprintf(&s, "\nretries %d · lost %d", b.Retries, b.Lost)
	}
	if w := b.GateWaitMs + b.RetryAfterWaitMs + b.BackoffWaitMs; w > 0 {
		fmt.Fprintf(&s, "\nwaited: gate %s · Retry-After %s · backoff %s", secs(b.GateWaitMs), secs(b.RetryAfterWaitMs), secs(b.BackoffWaitMs))
	}
	if b.RateLimit != nil {
		fmt.Fprintf(&s, "\nrate limit: remaining %d, reset %s s", b.RateLimit.Remaining, trimZero(strconv.FormatFloat(b.RateLimit.ResetS, 'f', 1, 64)))
	}
	return s.String()
}
