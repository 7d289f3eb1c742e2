package clientcfg

import (
	"slices"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// Retry merges retry levels (plan → scenario → step) over
// client.DefaultPolicy. nil levels are skipped. Within a level, only set fields
// override (non-nil slices and pointers, non-zero values), so a step may
// change one knob and inherit the rest.
//
// A level with Off disables retries (MaxAttempts 1) and the shared gate:
// the client then behaves like a plain one (JMeter's), the baseline that
// shows the wall unaided; other fields are kept. A later level that
// sets any field other than Off re-enables them; its fields apply on top
// of everything merged so far, including the levels before the Off, so
// plan-wide backoff or budget settings survive a scenario's `retry: off`
// being lifted for one step. MaxAttempts then is the latest level's, if
// any set it, else client.DefaultPolicy's.
//
// Unknown error-class names and jitter names are ignored; the plan
// validates them.
func Retry(levels ...*plan.Retry) client.Policy {
	p := client.DefaultPolicy()
	off := false
	for _, l := range levels {
		if l == nil {
			continue
		}
		if l.Off {
			off = true
			continue
		}
		if !hasFields(l) {
			continue
		}
		off = false
		if l.On != nil {
			p.On = slices.Clone(l.On)
		}
		if l.OnErrors != nil {
			p.OnClasses = p.OnClasses[:0:0]
			for _, n := range l.OnErrors {
				if c, ok := metrics.ParseClass(n); ok && !slices.Contains(p.OnClasses, c) {
					p.OnClasses = append(p.OnClasses, c)
				}
			}
		}
		if l.HonorRetryAfter != nil {
			p.HonorRetryAfter = *l.HonorRetryAfter
		}
		if l.MaxWait > 0 {
			p.MaxWait = l.MaxWait
		}
		if b := l.Backoff; b != nil {
			if b.Base > 0 {
				p.Base = b.Base
			}
			if b.Max > 0 {
				p.Max = b.Max
			}
			if b.Multiplier > 0 {
				p.Multiplier = b.Multiplier
			}
			if j, ok := client.ParseJitter(b.Jitter); ok && b.Jitter != "" {
				p.Jitter = j
			}
		}
		if l.MaxAttempts > 0 {
			p.MaxAttempts = l.MaxAttempts
		}
		if l.MaxElapsed > 0 {
			p.MaxElapsed = l.MaxElapsed
		}
		if b := l.Budget; b != nil {
			nb := *p.Budget
			if b.Ratio > 0 {
				nb.Ratio = b.Ratio
			}
			if b.Window > 0 {
				nb.Window = b.Window
			}
			if b.MinRetries > 0 {
				nb.MinRetries = b.MinRetries
			}
			p.Budget = &nb
		}
		if l.NonIdempotent != nil {
			p.NonIdempotent = *l.NonIdempotent
		}
		if l.Gate != nil {
			p.Gate = *l.Gate
		}
		if l.LimitKey != "" {
			p.LimitKey = l.LimitKey
		}
	}
	if off {
		p.MaxAttempts = 1
		p.Gate = false
	}
	return p
}

func hasFields(l *plan.Retry) bool {
	return l.On != nil || l.OnErrors != nil || l.HonorRetryAfter != nil || l.MaxWait != 0 ||
		l.Backoff != nil || l.MaxAttempts != 0 || l.MaxElapsed != 0 || l.Budget != nil ||
		l.NonIdempotent != nil || l.Gate != nil || l.LimitKey != ""
}
