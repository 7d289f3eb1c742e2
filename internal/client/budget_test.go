package client

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

func TestBudgetWindow(t *testing.T) {
	t.Parallel()
	b := NewBudget(BudgetConfig{Ratio: 0.5, Window: 10 * time.Second, MinRetries: 2})
	t0 := time.Unix(1_000_000, 0)
	// Min retries with no firsts at all.
	if !b.AllowRetry(t0) || !b.AllowRetry(t0) || b.AllowRetry(t0) {
		t.Fatal("want exactly MinRetries=2 retries on a quiet window")
	}
	// 4 firsts buy 2 more.
	for range 4 {
		b.RecordFirst(t0.Add(time.Second))
	}
	if !b.AllowRetry(t0.Add(time.Second)) || !b.AllowRetry(t0.Add(time.Second)) || b.AllowRetry(t0.Add(time.Second)) {
		t.Fatal("want 2 + 0.5×4 = 4 retries")
	}
	if got := b.Refused(); got != 2 {
		t.Errorf("Refused = %d, want 2", got)
	}
	// 10 s after t0 the first bucket slid out (2 retries), so 2 more fit.
	at := t0.Add(10 * time.Second)
	if !b.AllowRetry(at) || !b.AllowRetry(at) || b.AllowRetry(at) {
		t.Fatal("want the window to slide by a bucket")
	}
	// Long after, everything slid out.
	late := t0.Add(time.Hour)
	if !b.AllowRetry(late) || !b.AllowRetry(late) || b.AllowRetry(late) {
		t.Fatal("want a fresh window")
	}
	if got := NewBudget(BudgetConfig{Ratio: -1, MinRetries: -1}).Config(); got != (BudgetConfig{Window: 10 * time.Second}) {
		t.Errorf("normalised config = %+v", got)
	}
}

func TestBudgetConcurrent(t *testing.T) {
	t.Parallel()
	b := NewBudget(BudgetConfig{Ratio: 0.1, Window: time.Second, MinRetries: 0})
	now := time.Unix(2_000_000, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				b.RecordFirst(now)
				if b.AllowRetry(now) {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed > 800 {
		t.Errorf("%d retries allowed for 8000 firsts at 10%%", allowed)
	}
}

// TestBudgetStopsRetryStorm sends into a server that always answers 503:
// without a budget every request would be tried MaxAttempts times; with
// it, retries stay within ratio × firsts + min per window and the rest
// fail fast with class budget.
func TestBudgetStopsRetryStorm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := serveN(func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })
		c := New(HandlerTransport{h}, WithSeed(7))
		const ratio, minRetries, window, run = 0.2, 10, 10 * time.Second, 60 * time.Second
		pol := testPolicy(func(p *Policy) {
			p.MaxAttempts = 50
			p.MaxElapsed = 0
			p.Base, p.Max = 10*time.Millisecond, 200*time.Millisecond
			p.Budget = &BudgetConfig{Ratio: ratio, Window: window, MinRetries: minRetries}
		})
		ctx, cancel := context.WithTimeout(context.Background(), run)
		defer cancel()
		var mu sync.Mutex
		var firsts, retries, budgetOut, lost int
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				req, resp := getReq("http://api.test/x"), &Response{}
				for ctx.Err() == nil {
					out := c.Do(ctx, req, resp, pol, nil, func(a Attempt) {
						mu.Lock()
						if a.Number == 1 {
							firsts++
						} else {
							retries++
						}
						mu.Unlock()
					})
					mu.Lock()
					if out.Class == metrics.Budget {
						budgetOut++
						if !out.Lost || out.Status != 503 || !errors.Is(out.Err, ErrBudgetExhausted) {
							t.Errorf("budget outcome = %+v", out)
						}
					}
					if out.Lost {
						lost++
					}
					mu.Unlock()
					wait(ctx, 100*time.Millisecond)
				}
			})
		}
		wg.Wait()
		windows := int(run/window) + 1
		bound := ratio*float64(firsts) + float64(minRetries*windows)
		if float64(retries) > bound {
			t.Errorf("%d retries for %d firsts: over the budget bound %.0f", retries, firsts, bound)
		}
		if budgetOut == 0 || firsts == 0 {
			t.Fatalf("budget never refused (firsts %d, retries %d)", firsts, retries)
		}
		if got := c.Budget("default", *pol.Budget).Refused(); got != int64(budgetOut) {
			t.Errorf("Budget.Refused = %d, outcomes with class budget = %d", got, budgetOut)
		}
		t.Logf("%d firsts, %d retries (%.2f×), %d refused by the budget, %d lost", firsts, retries,
			float64(retries)/float64(firsts), budgetOut, lost)
	})
}
