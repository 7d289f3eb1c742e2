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
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
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
	diagnose.JobCap:         "#be185d",
	// Not walls of the service: one muted colour.
	diagnose.Credentials: "#475569",
	diagnose.Unreachable: "#475569",
	diagnose.TLSFailure:  "#475569",
	diagnose.CutOff:      "#475569",
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
	// The same states, in the same order, as the text summary's header.
	switch {
	case s.Partial:
		p.State, p.StateClass = "partial: the run did not end; results cover it up to its last checkpoint", "bad"
	case s.Aborted:
		p.State, p.StateClass = "aborted: in-flight requests were cut off", "bad"
	case s.Interrupted:
		p.State, p.StateClass = "interrupted: results cover what ran", "warn"
	case s.StopReason != "":
		p.State, p.StateClass = "stopped early: results cover what ran", "bad"
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
	p.Charts = charts(series, width, d)
	if c := distribution(res.Hists); c != nil {
		p.Charts = append(p.Charts, c)
	}
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
		// The summary's percentiles are of every request; the latency
		// chart draws successes and failures apart.
		t[6].Note += " · failures included"
		t[7].Note += " · failures included"
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

func charts(bs []metrics.Bucket, width float64, d *diagnose.Diagnosis) []*chart {
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
	lat := func(ko bool, due bool, f func(p *metrics.Percentiles) float64) []float64 {
		return col(func(b *metrics.Bucket) float64 {
			ok, bad := b.Split()
			l := &ok
			if ko {
				l = &bad
			}
			p := &l.FromSend
			if due {
				p = &l.FromDue
			}
			if p.Count == 0 {
				return math.NaN()
			}
			return f(p)
		})
	}
	p50 := func(p *metrics.Percentiles) float64 { return p.P50 }
	p90 := func(p *metrics.Percentiles) float64 { return p.P90 }
	p99 := func(p *metrics.Percentiles) float64 { return p.P99 }

	goodput := per(func(b *metrics.Bucket) float64 { return float64(b.Goodput) })
	rate := mk("rate", "Offered vs achieved", "per s",
		series{Name: "dropped", Color: "#ef4444", Bar: true, Y: per(func(b *metrics.Bucket) float64 { return float64(b.Dropped) })},
		series{Name: "offered", Color: "#6b7280", Dash: true, Y: per(func(b *metrics.Bucket) float64 { return float64(b.Offered) })},
		series{Name: "sent (attempts)", Color: "#2563eb", Y: per(func(b *metrics.Bucket) float64 { return float64(b.Attempts) })},
		series{Name: "achieved", Color: "#0d9488", Y: per(func(b *metrics.Bucket) float64 { return float64(b.Completed) })},
		series{Name: "goodput", Color: "#16a34a", Dash: true, Y: goodput},
	)
	rate.Note = "iterations due, attempts sent, requests completed and succeeded per second"

	latency := mk("latency", "Latency percentiles", "ms",
		series{Name: "p50 from due", Color: "#2563eb", Y: lat(false, true, p50)},
		series{Name: "p90 from due", Color: "#f59e0b", Y: lat(false, true, p90)},
		series{Name: "p99 from due", Color: "#dc2626", Y: lat(false, true, p99)},
		series{Name: "p50 from send", Color: "#2563eb", Dash: true, Y: lat(false, false, p50)},
		series{Name: "p99 from send", Color: "#dc2626", Dash: true, Y: lat(false, false, p99)},
	)
	latency.Log = true
	latency.Note = "of requests that succeeded, by the second they completed in, log scale; from due counts time waiting to be sent"
	if ko := lat(true, true, p50); anyValue(ko) {
		// Failures apart (as k6 and Gatling draw them): a fast refusal
		// would otherwise pull the successes' p50 down to its own.
		latency.Series = append(latency.Series,
			series{Name: "failed p50 from due", Color: "#9333ea", Y: ko},
			series{Name: "failed p99 from due", Color: "#9333ea", Dash: true, Y: lat(true, true, p99)})
		latency.Note = "successes and failures (purple) apart, by the second they completed in, log scale; from due counts time waiting to be sent"
	}

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
		if anyValue(ys) {
			st = append(st, series{Name: c.name, Color: c.color, Bar: true, Y: ys})
		}
	}
	statuses := mk("statuses", "Status codes", "per s", st...)
	statuses.Stacked = true
	statuses.Note = "attempts by status, stacked; 429 red, 403 purple"

	inflight := mk("inflight", "In flight", "requests",
		series{Name: "peak", Color: "#2563eb", Y: col(func(b *metrics.Bucket) float64 { return float64(b.InFlightMax) })},
		series{Name: "mean", Color: "#93c5fd", Y: col(func(b *metrics.Bucket) float64 { return b.InFlightMean })},
	)
	inflight.Note = "logical requests in flight (retries and waits included)"

	retries := mk("retries", "Retries, lost and waiting", "per s",
		series{Name: "lost", Color: "#dc2626", Bar: true, Y: per(func(b *metrics.Bucket) float64 { return float64(b.Lost) })},
		series{Name: "retries", Color: "#f59e0b", Y: per(func(b *metrics.Bucket) float64 { return float64(b.Retries) })},
		series{Name: "at the gate", Color: "#7c3aed", Right: true, Y: per(func(b *metrics.Bucket) float64 { return b.GateWaitMs / 1000 })},
		series{Name: "for Retry-After", Color: "#db2777", Right: true, Dash: true, Y: per(func(b *metrics.Bucket) float64 { return b.RetryAfterWaitMs / 1000 })},
		series{Name: "in backoff", Color: "#64748b", Right: true, Dash: true, Y: per(func(b *metrics.Bucket) float64 { return b.BackoffWaitMs / 1000 })},
	)
	retries.RightUnit = "requests waiting"
	retries.Note = "retries and lost requests per second; requests waiting (right: seconds waited per second, summed over every request, so 40 VUs held at the gate read 40)"

	rl := func(f func(r *metrics.RateLimitPoint) float64) []float64 {
		return col(func(b *metrics.Bucket) float64 {
			if b.RateLimit == nil {
				return math.NaN()
			}
			return f(b.RateLimit)
		})
	}
	ratelimit := mk("ratelimit", "Rate-limit headers", "remaining",
		series{Name: "remaining (lowest)", Color: "#2563eb", Y: rl(func(r *metrics.RateLimitPoint) float64 { return float64(r.Remaining) })},
		series{Name: "reset (longest)", Color: "#f59e0b", Right: true, Y: rl(func(r *metrics.RateLimitPoint) float64 { return r.ResetS })},
	)
	ratelimit.RightUnit = "reset s"
	ratelimit.Note = "quota left and time to reset, as responses reported them"

	// The walls' levels, on the charts they belong to; a wall confined
	// to one step gets that step's chart.
	var extra []*chart
	for _, f := range d.Findings {
		o := f.Onset
		switch {
		case f.Kind == diagnose.RateLimit && o.Rate > 0:
			label := "limit " + diagnose.Rate(o.Rate)
			if o.Count > 0 && o.Window > 0 {
				label += " (" + diagnose.Count(o.Count) + " per " + diagnose.Seconds(o.Window) + ")"
			}
			rate.Levels = append(rate.Levels, level{Y: o.Rate, Label: label, Color: kindColor[f.Kind], Kind: string(f.Kind)})
			if k := windowSpan(o.Window, width); k > 1 {
				whole := rolling(bs, k, func(b *metrics.Bucket) float64 { return float64(b.Goodput) })
				rate.Series = append(rate.Series, series{Name: fmt.Sprintf("goodput over %s", diagnose.Seconds(float64(k)*width)),
					Color: "#15803d", Y: whole})
				// A bucket where nothing got through while the run kept
				// pace with the limit around it held no window's start.
				for i := range bs {
					if bs[i].T >= o.Time && bs[i].Seconds >= 0.5*width && goodput[i] < 0.1*o.Rate && centred(bs, i, k) >= 0.9*o.Rate {
						rate.Bands = append(rate.Bands, band{T0: bs[i].T, T1: bs[i].T + bs[i].Seconds, Label: "no window of the limit starts in this bucket"})
					}
				}
				rate.Note += fmt.Sprintf("; %s windows read per %s: a bucket that holds no window's start (shaded) dips, not an outage; "+
					"over %s (whole windows) goodput meets the limit", diagnose.Seconds(o.Window), diagnose.Seconds(width), diagnose.Seconds(float64(k)*width))
			}
		case f.Kind == diagnose.ConcurrencyCap && o.InFlight > 0:
			inflight.Levels = append(inflight.Levels, level{Y: o.InFlight, Label: "cap " + strconv.FormatFloat(o.InFlight, 'f', -1, 64) + " in flight",
				Color: kindColor[f.Kind], Kind: string(f.Kind)})
		case f.Kind == diagnose.JobCap && o.Count > 0 && o.Lifetime > 0:
			if c := stepChart(bs, f.Scope, mk); c != nil {
				c.Levels = append(c.Levels, level{Y: float64(o.Count) / o.Lifetime, Kind: string(f.Kind), Color: kindColor[f.Kind],
					Label: fmt.Sprintf("cap %d open × %s ≈ %s", o.Count, diagnose.Seconds(o.Lifetime), diagnose.Rate(float64(o.Count)/o.Lifetime))})
				c.Note = "attempts per second, log scale; the dotted line is the rate the cap admits: its open jobs over how long each stays open"
				extra = append(extra, c)
			}
		case f.Kind == diagnose.Saturation && o.InFlight > 0:
			inflight.Levels = append(inflight.Levels, level{Y: o.InFlight, Label: "knee " + strconv.FormatFloat(o.InFlight, 'f', -1, 64) + " in flight",
				Color: kindColor[f.Kind], Kind: string(f.Kind)})
		}
	}

	// Counts that stayed zero (no drops, no retries, no waiting) are left
	// out, legend and all, and so is a chart left with nothing.
	rate.Series = slices.DeleteFunc(rate.Series, func(s series) bool { return s.Name == "dropped" && !anyValue(s.Y) })
	retries.Series = slices.DeleteFunc(retries.Series, func(s series) bool { return !anyValue(s.Y) })
	var out []*chart
	for _, c := range append([]*chart{rate, latency, statuses, inflight, retries, ratelimit}, extra...) {
		if !c.empty() {
			out = append(out, c)
		}
	}
	return out
}

// stepChart is the attempts per second of the step scope names
// ("scenario/step"), accepted and refused, on a log scale (a cap may
// admit a few a second of hundreds sent); nil when no bucket has it.
func stepChart(bs []metrics.Bucket, scope string, mk func(id, title, unit string, ss ...series) *chart) *chart {
	sc, st, ok := strings.Cut(scope, "/")
	if !ok {
		return nil
	}
	classes := []struct {
		name, color string
		match       func(int) bool
	}{
		{"accepted (2xx)", "#16a34a", func(c int) bool { return c >= 200 && c < 300 }},
		{"refused (4xx, 5xx, no response)", "#dc2626", func(c int) bool { return c < 200 || c >= 400 }},
	}
	var ss []series
	found := false
	for _, cl := range classes {
		ys := make([]float64, len(bs))
		for i := range bs {
			ys[i] = math.NaN()
			for _, sb := range bs[i].Steps {
				if sb.Scenario != sc || sb.Step != st || bs[i].Seconds <= 0 {
					continue
				}
				found = true
				var n int64
				for k, v := range sb.Statuses {
					if code, err := strconv.Atoi(k); err == nil && cl.match(code) {
						n += v
					}
				}
				ys[i] = float64(n) / bs[i].Seconds
			}
		}
		ss = append(ss, series{Name: cl.name, Color: cl.color, Y: ys})
	}
	if !found {
		return nil
	}
	c := mk("step-"+sc+"-"+st, "Step "+scope, "per s", ss...)
	c.Log = true
	return c
}

// windowSpan is how many buckets of width seconds hold whole windows of
// a limit's window seconds (5 for 1.2 s windows in 1 s buckets: 6 s),
// or 0 when no span up to a minute does.
func windowSpan(window, width float64) int {
	if !(window > 0) || !(width > 0) {
		return 0
	}
	for k := 1; float64(k)*width <= math.Max(60, window); k++ {
		n := float64(k) * width / window
		if n >= 1 && math.Abs(n-math.Round(n)) < 0.02 {
			return k
		}
	}
	return 0
}

// rolling is f per second over the k buckets up to each one (NaN until
// there are k).
func rolling(bs []metrics.Bucket, k int, f func(b *metrics.Bucket) float64) []float64 {
	ys := make([]float64, len(bs))
	for i := range bs {
		ys[i] = math.NaN()
		if i+1 < k {
			continue
		}
		var sum, secs float64
		for j := i + 1 - k; j <= i; j++ {
			sum += f(&bs[j])
			secs += bs[j].Seconds
		}
		if secs > 0 {
			ys[i] = sum / secs
		}
	}
	return ys
}

// centred is goodput per second over the k buckets around bucket i
// (shifted to fit in bs).
func centred(bs []metrics.Bucket, i, k int) float64 {
	lo := max(0, min(i-k/2, len(bs)-k))
	var sum, secs float64
	for j := lo; j < min(lo+k, len(bs)); j++ {
		sum += float64(bs[j].Goodput)
		secs += bs[j].Seconds
	}
	if secs <= 0 {
		return 0
	}
	return sum / secs
}

func anyValue(ys []float64) bool {
	for _, y := range ys {
		if y > 0 {
			return true
		}
	}
	return false
}

// distribution charts how the requests' latencies spread, from send and
// from due, over every step: the share of requests in each of ten bins
// per decade of milliseconds. Nil when no request completed.
func distribution(hs []metrics.StepHists) *chart {
	send, due := metrics.NewHists().FromSend, metrics.NewHists().FromDue
	for _, h := range hs {
		if h.FromSend != nil {
			send.Merge(h.FromSend)
		}
		if h.FromDue != nil {
			due.Merge(h.FromDue)
		}
	}
	if send.TotalCount() == 0 {
		return nil
	}
	const perDecade = 10
	lo := math.Floor(math.Log10(float64(max(send.Min(), 1))/1000) * perDecade)
	hi := math.Ceil(math.Log10(float64(max(send.Max(), due.Max(), 1))/1000)*perDecade + 1e-9)
	hi = max(hi, lo+1)
	n := int(hi - lo)
	bin := func(us int64) int {
		i := int(math.Floor(math.Log10(float64(max(us, 1))/1000)*perDecade - lo))
		return min(max(i, 0), n-1)
	}
	share := func(h *hdr.Histogram) []float64 {
		ys := make([]float64, n)
		for _, b := range h.Distribution() {
			if b.Count > 0 {
				ys[bin((b.From+b.To)/2)] += float64(b.Count)
			}
		}
		for i := range ys {
			ys[i] *= 100 / float64(h.TotalCount())
		}
		return ys
	}
	c := &chart{ID: "distribution", Title: "Response-time distribution", Unit: "% of requests", XUnit: "ms",
		T: make([]float64, n), W: make([]float64, n),
		Series: []series{{Name: "from send", Color: "#2563eb", Bar: true, Y: share(send)}, {Name: "from due", Color: "#dc2626", Y: share(due)}}}
	edge := func(i int) float64 { return math.Pow(10, (lo+float64(i))/perDecade) }
	for i := range n {
		c.T[i], c.W[i] = float64(i), 1
	}
	for i := 0; i <= n; i++ { // the axis's right end too, when it is a decade
		if int(lo+float64(i))%perDecade == 0 {
			c.XTicks = append(c.XTicks, xtick{X: float64(i), Label: latencyLabel(edge(i))})
		}
	}
	if len(c.XTicks) < 2 { // less than a decade: label the ends instead
		c.XTicks = []xtick{{X: 0, Label: latencyLabel(edge(0))}, {X: float64(n), Label: latencyLabel(edge(n))}}
	}
	c.Tip = func(i int) string {
		return fmt.Sprintf("%s – %s\nfrom send %s%% · from due %s%%", latencyLabel(edge(i)), latencyLabel(edge(i+1)),
			trimZero(strconv.FormatFloat(c.Series[0].Y[i], 'f', 2, 64)), trimZero(strconv.FormatFloat(c.Series[1].Y[i], 'f', 2, 64)))
	}
	c.Note = fmt.Sprintf("share of the run's %s requests by latency, ten bins per decade, log scale; failures included",
		diagnose.Count(send.TotalCount()))
	return c
}

// latencyLabel formats ms for an axis: 0.1 ms, 10 ms, 1 s.
func latencyLabel(ms float64) string {
	if ms >= 1000 {
		return trimZero(strconv.FormatFloat(ms/1000, 'f', 2, 64)) + " s"
	}
	return trimZero(strconv.FormatFloat(ms, 'f', 2, 64)) + " ms"
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
		fmt.Fprintf(&s, "\nwaited, summed over requests: gate %s · Retry-After %s · backoff %s", secs(b.GateWaitMs), secs(b.RetryAfterWaitMs), secs(b.BackoffWaitMs))
	}
	if b.RateLimit != nil {
		fmt.Fprintf(&s, "\nrate limit: remaining %d, reset %s s", b.RateLimit.Remaining, trimZero(strconv.FormatFloat(b.RateLimit.ResetS, 'f', 1, 64)))
	}
	return s.String()
}
