package plan

import (
	"slices"

	"go.yaml.in/yaml/v3"
)

var (
	retryKeys   = []string{"on", "honor_retry_after", "max_wait", "backoff", "max_attempts", "max_elapsed", "budget", "non_idempotent", "gate", "limit_key"}
	backoffKeys = []string{"base", "max", "multiplier", "jitter"}
	budgetKeys  = []string{"ratio", "window", "min_retries"}
	errorKinds  = []string{"connect", "reset", "timeout", "tls"}
	jitters     = []string{"full", "equal", "none"}
)

// retry decodes `retry: off` or a retry mapping. Problems are reported
// and a partial policy returned.
func (d *decoder) retry(n *yaml.Node, what string) *Retry {
	n = resolve(n)
	r := &Retry{Pos: pos(n)}
	if n.Kind == yaml.ScalarNode {
		v, ok := d.scalar(n, what, `"off" or a mapping`)
		if ok && (v.s == "off" || v.tag == boolTag && v.s == "false") {
			r.Off = true
			return r
		}
		if ok {
			d.errorf(n, "%s must be off or a mapping, got %s; write retry: off to disable retries, or retry: {on: [429, 503], ...}", what, describe(n))
		}
		return r
	}
	f, ok := d.mapping(n, n, what, retryKeys)
	if !ok {
		return r
	}
	if v := f.val("on"); v != nil {
		d.retryOn(v, r)
	}
	if v := f.val("honor_retry_after"); v != nil {
		r.HonorRetryAfter, _ = d.boolean(v, "honor_retry_after")
	}
	if v := f.val("max_wait"); v != nil {
		r.MaxWait, _ = d.duration(v, "max_wait", true)
	}
	if v := f.val("backoff"); v != nil {
		r.Backoff = d.backoff(f.key("backoff"), v)
	}
	if v := f.val("max_attempts"); v != nil {
		r.MaxAttempts, _ = d.integer(v, "max_attempts", 1)
	}
	if v := f.val("max_elapsed"); v != nil {
		r.MaxElapsed, _ = d.duration(v, "max_elapsed", true)
	}
	if v := f.val("budget"); v != nil {
		r.Budget = d.budget(f.key("budget"), v)
	}
	if v := f.val("non_idempotent"); v != nil {
		r.NonIdempotent, _ = d.boolean(v, "non_idempotent")
	}
	if v := f.val("gate"); v != nil {
		r.Gate, _ = d.boolean(v, "gate")
	}
	if v := f.val("limit_key"); v != nil {
		r.LimitKey, _ = d.nonEmpty(v, "limit_key")
	}
	return r
}

// retryOn splits `on` into statuses and error classes. Both are non-nil
// once `on` is given, so an explicit list never reads as "the default".
func (d *decoder) retryOn(n *yaml.Node, r *Retry) {
	items, ok := d.sequence(n, "on", "[429, 503, connect, timeout]")
	if !ok {
		return
	}
	r.On, r.OnErrors = []int{}, []string{}
	for _, it := range items {
		v, ok := d.scalar(it, "a retry condition", "a status or error class")
		if !ok {
			continue
		}
		if v.tag == intTag {
			if code, ok := d.status(it, "a retry status"); ok {
				if slices.Contains(r.On, code) {
					d.errorf(it, "status %d is listed twice in on; remove one", code)
					continue
				}
				r.On = append(r.On, code)
			}
			continue
		}
		if !slices.Contains(errorKinds, v.s) {
			hint := didYouMean(v.s, errorKinds)
			d.errorf(it, "unknown retry condition %s;%s use HTTP statuses or: connect, reset, timeout, tls", describe(resolve(it)), hint)
			continue
		}
		if slices.Contains(r.OnErrors, v.s) {
			d.errorf(it, "%s is listed twice in on; remove one", v.s)
			continue
		}
		r.OnErrors = append(r.OnErrors, v.s)
	}
}

// status decodes an HTTP status code, 100 to 599.
func (d *decoder) status(n *yaml.Node, what string) (int, bool) {
	code, ok := d.integer(n, what, 100)
	if ok && code > 599 {
		d.errorf(n, "%s must be an HTTP status from 100 to 599, got %d; fix the number", what, code)
		return 0, false
	}
	return code, ok
}

func (d *decoder) backoff(key, n *yaml.Node) *Backoff {
	f, ok := d.mapping(n, key, "backoff", backoffKeys)
	if !ok {
		return nil
	}
	b := &Backoff{}
	if v := f.val("base"); v != nil {
		b.Base, _ = d.duration(v, "base", true)
	}
	if v := f.val("max"); v != nil {
		b.Max, _ = d.duration(v, "max", true)
		if b.Base > 0 && b.Max > 0 && b.Max < b.Base {
			d.errorf(v, "backoff max %s is shorter than base %s; raise max or lower base", b.Max, b.Base)
		}
	}
	if v := f.val("multiplier"); v != nil {
		if m, ok := d.number(v, "multiplier"); ok {
			if m < 1 {
				d.errorf(v, "multiplier must be at least 1, got %g; 2 doubles the wait each retry", m)
			}
			b.Multiplier = m
		}
	}
	if v := f.val("jitter"); v != nil {
		if j, ok := d.str(v, "jitter"); ok {
			if !slices.Contains(jitters, j) {
				hint := didYouMean(j, jitters)
				d.errorf(v, "unknown jitter %s;%s use full, equal or none", describe(resolve(v)), hint)
			}
			b.Jitter = j
		}
	}
	return b
}

// budget decodes `budget: 20%` or {ratio, window, min_retries}.
func (d *decoder) budget(key, n *yaml.Node) *Budget {
	b := &Budget{MinRetries: DefaultMinRetries}
	if resolve(n).Kind == yaml.ScalarNode {
		b.Ratio, _ = d.ratio(n, "budget")
		return b
	}
	f, ok := d.mapping(n, key, "budget", budgetKeys)
	if !ok {
		return nil
	}
	if v := f.val("ratio"); v != nil {
		b.Ratio, _ = d.ratio(v, "ratio")
	} else {
		d.errorf(key, "budget needs ratio, the share of retries to first attempts; add ratio: 20%%")
	}
	if v := f.val("window"); v != nil {
		b.Window, _ = d.duration(v, "window", true)
	}
	if v := f.val("min_retries"); v != nil {
		b.MinRetries, _ = d.integer(v, "min_retries", 0)
	}
	return b
}
