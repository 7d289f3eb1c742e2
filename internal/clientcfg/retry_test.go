package clientcfg

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

func TestRetry(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	def := client.DefaultPolicy()
	tests := []struct {
		name   string
		levels []*plan.Retry
		edit   func(*client.Policy)
	}{
		{"none", nil, nil},
		{"nil levels skipped", []*plan.Retry{nil, nil}, nil},
		{"plan sets statuses and classes", []*plan.Retry{{On: []int{500}, OnErrors: []string{"timeout", "reset", "bogus"}}},
			func(p *client.Policy) {
				p.On = []int{500}
				p.OnClasses = []metrics.Class{metrics.Timeout, metrics.Reset}
			}},
		{"step overrides scenario overrides plan", []*plan.Retry{
			{MaxAttempts: 8, Backoff: &plan.Backoff{Base: time.Second, Jitter: "equal"}},
			{MaxAttempts: 3, MaxWait: 5 * time.Second},
			{Backoff: &plan.Backoff{Max: time.Minute, Multiplier: 3}, LimitKey: "conversations"},
		}, func(p *client.Policy) {
			p.MaxAttempts, p.MaxWait = 3, 5*time.Second
			p.Base, p.Max, p.Multiplier, p.Jitter = time.Second, time.Minute, 3, client.JitterEqual
			p.LimitKey = "conversations"
		}},
		{"booleans", []*plan.Retry{{HonorRetryAfter: &no, NonIdempotent: &yes, Gate: &no}},
			func(p *client.Policy) { p.HonorRetryAfter, p.NonIdempotent, p.Gate = false, true, false }},
		{"budget merges field by field", []*plan.Retry{{Budget: &plan.Budget{Ratio: 0.5}}, {Budget: &plan.Budget{Window: time.Minute}}},
			func(p *client.Policy) {
				p.Budget = &client.BudgetConfig{Ratio: 0.5, Window: time.Minute, MinRetries: 10}
			}},
		{"off", []*plan.Retry{{MaxAttempts: 8}, {Off: true}},
			func(p *client.Policy) { p.MaxAttempts, p.Gate = 1, false }},
		{"off keeps other fields", []*plan.Retry{{MaxElapsed: time.Minute}, {Off: true}},
			func(p *client.Policy) { p.MaxAttempts, p.MaxElapsed, p.Gate = 1, time.Minute, false }},
		{"off then fields re-enable", []*plan.Retry{{MaxWait: time.Second}, {Off: true}, {On: []int{500}}},
			func(p *client.Policy) { p.On, p.MaxWait = []int{500}, time.Second }},
		{"off then empty level stays off", []*plan.Retry{{Off: true}, {}}, func(p *client.Policy) { p.MaxAttempts, p.Gate = 1, false }},
		{"off then max_attempts", []*plan.Retry{{MaxAttempts: 7}, {Off: true}, {MaxAttempts: 2}},
			func(p *client.Policy) { p.MaxAttempts = 2 }},
		{"elapsed", []*plan.Retry{{MaxElapsed: 10 * time.Minute}}, func(p *client.Policy) { p.MaxElapsed = 10 * time.Minute }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := client.DefaultPolicy()
			if tt.edit != nil {
				tt.edit(&want)
			}
			got := Retry(tt.levels...)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Retry mismatch (-want +got):\n%s", diff)
			}
		})
	}
	// Retry must not alias the plan's slices.
	l := &plan.Retry{On: []int{500}}
	p := Retry(l)
	l.On[0] = 418
	if p.On[0] != 500 {
		t.Error("Retry aliases plan.Retry.On")
	}
	_ = def
}
