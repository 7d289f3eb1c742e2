package report

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// WriteText writes the end-of-run summary table. The output depends only
// on s, so it is stable for golden tests.
func WriteText(w io.Writer, s *metrics.Summary) error {
	var b strings.Builder
	state := "completed"
	switch {
	case s.Partial:
		state = "PARTIAL: the run did not end; results cover it up to its last checkpoint"
	case s.Aborted:
		state = "ABORTED: in-flight requests were cut off; results cover what ran"
	case s.Interrupted:
		state = "INTERRUPTED: stopped early; results cover what ran"
	case s.StopReason != "": // the target or the credentials failed it
		state = "STOPPED early; results cover what ran"
	}
	fmt.Fprintf(&b, "%s → %s   %.1f s   %s\n", s.Plan, s.Target, s.DurationS, state)
	if s.StopReason != "" {
		fmt.Fprintf(&b, "stop reason: %s\n", s.StopReason)
	}
	b.WriteString("\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\trequests\tok\tfailed\tlost\tdropped\tattempts\tretries\toffered/s\tachieved/s\tgoodput/s\t")
	row := func(name string, st *metrics.Stats) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t\n", name,
			st.Requests, st.Succeeded, st.Requests-st.Succeeded, st.Lost, st.Dropped, st.Attempts, st.Retries,
			st.OfferedRate, st.AchievedRate, st.Goodput)
	}
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		row(sc.Name+" ("+sc.Executor+")", &sc.Stats)
		if len(sc.Steps) > 1 {
			for j := range sc.Steps {
				row("  "+sc.Steps[j].Name, &sc.Steps[j].Stats)
			}
		}
	}
	if len(s.Scenarios) > 1 {
		row("total", &s.Stats)
	}
	tw.Flush()

	fmt.Fprintf(&b, "\nstatuses (attempts): %s\n", counts(s.Statuses))
	if len(s.Errors) > 0 {
		fmt.Fprintf(&b, "failures (requests): %s\n", counts(s.Errors))
	}
	if s.Attempts != s.Requests {
		fmt.Fprintf(&b, "retry amplification: %.3f attempts per request\n", s.RetryAmplification)
	}

	b.WriteString("\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "latency (ms)\tp50\tp90\tp95\tp99\tp99.9\tmax\t")
	lat := func(name string, p metrics.Percentiles) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, num(p.P50), num(p.P90), num(p.P95), num(p.P99), num(p.P999), num(p.Max))
	}
	lat("from due", s.Latency.FromDue)
	lat("from send", s.Latency.FromSend)
	lat("per attempt", s.Latency.Attempt)
	tw.Flush()

	if s.Waits.RetryAfter+s.Waits.Backoff+s.Waits.Gate > 0 {
		fmt.Fprintf(&b, "\ntime waiting, summed over requests: retry-after %s · backoff %s · gate %s\n",
			secs(s.Waits.RetryAfter), secs(s.Waits.Backoff), secs(s.Waits.Gate))
	}
	if s.Lost > 0 {
		fmt.Fprintf(&b, "\nlost: %d requests ran out of retries or budget", s.Lost)
		if len(s.LostRequests) > 0 {
			l := s.LostRequests[0]
			fmt.Fprintf(&b, "; first: %s/%s after %d attempt(s): %s", l.Scenario, l.Step, l.Attempts, l.Error)
		}
		b.WriteString("\n")
	}
	if g := s.Generator; g != nil {
		fmt.Fprintf(&b, "\ngenerator: %s\n", generatorText(g, s.DurationS))
		if g.Robbed(s.DurationS) {
			b.WriteString("  " + robbedText + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// generatorText says what generating cost: "4.20 s of CPU on 2 CPUs;
// taken by the hypervisor (steal): 0.10 s, 0.5% of their time".
func generatorText(g *metrics.Generator, seconds float64) string {
	t := fmt.Sprintf("%.2f s of CPU on %s", g.CPUS, plural(g.CPUs, "CPU"))
	if g.StealS != nil {
		t += fmt.Sprintf("; taken by the hypervisor (steal): %.2f s, %.1f%% of their time", *g.StealS, 100*g.StealShare(seconds))
	}
	return t
}

// robbedText is the warning for a run whose generator was robbed of its
// CPUs (metrics.Generator.Robbed).
const robbedText = "the host ran others on these CPUs while floodgate was busy on them: late sends, drops and latency may be its doing, not the server's"

// plural renders "1 CPU", "2 CPUs".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// counts renders a count map as "200 × 4,980 · 429 × 20", largest first.
func counts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		name := k
		if k == "0" {
			name = "no response"
		}
		parts[i] = name + " × " + strconv.FormatInt(m[k], 10)
	}
	return strings.Join(parts, " · ")
}

func num(ms float64) string {
	switch {
	case ms == 0:
		return "-"
	case ms < 10:
		return strconv.FormatFloat(ms, 'f', 2, 64)
	case ms < 1000:
		return strconv.FormatFloat(ms, 'f', 1, 64)
	}
	return strconv.FormatFloat(ms, 'f', 0, 64)
}

func secs(ms float64) string {
	return strconv.FormatFloat(ms/1000, 'f', 1, 64) + " s"
}
