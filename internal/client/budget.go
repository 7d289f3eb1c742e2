package client

import (
	"sync"
	"time"
)

// budgetBuckets is how many buckets a Budget's window is cut into: the
// window slides in steps of a tenth of its length.
const budgetBuckets = 10

// Budget is a retry budget over a sliding window: a retry is allowed
// while the retries already allowed in the window are fewer than
// MinRetries + Ratio × first attempts recorded in the window. The window
// is kept as 10 buckets of Window/10, so it slides in tenths.
//
// The zero Budget is not usable; build one with NewBudget. A Budget is
// safe for concurrent use. Times are passed in, so a Budget is
// deterministic under test.
type Budget struct {
	cfg   BudgetConfig
	width time.Duration // one bucket

	mu      sync.Mutex
	buckets [budgetBuckets]budgetBucket
	refused int64
}

type budgetBucket struct {
	epoch   int64 // which bucket-width interval since the Unix epoch
	firsts  int64
	retries int64
}

// NewBudget returns an empty budget. A Window under 10 ns counts as 10 s;
// a negative Ratio or MinRetries counts as 0.
func NewBudget(cfg BudgetConfig) *Budget {
	if cfg.Window < budgetBuckets {
		cfg.Window = 10 * time.Second
	}
	cfg.Ratio = max(cfg.Ratio, 0)
	cfg.MinRetries = max(cfg.MinRetries, 0)
	return &Budget{cfg: cfg, width: cfg.Window / budgetBuckets}
}

// Config returns the budget's (normalised) configuration.
func (b *Budget) Config() BudgetConfig { return b.cfg }

// bucket returns the bucket for now, emptied if it held an older
// interval. b.mu is held.
func (b *Budget) bucket(now time.Time) *budgetBucket {
	e := now.UnixNano() / int64(b.width)
	bk := &b.buckets[uint64(e)%budgetBuckets]
	if bk.epoch != e {
		*bk = budgetBucket{epoch: e}
	}
	return bk
}

// sums returns the firsts and retries recorded in the window ending at
// now. b.mu is held.
func (b *Budget) sums(now time.Time) (firsts, retries int64) {
	e := now.UnixNano() / int64(b.width)
	for i := range b.buckets {
		bk := &b.buckets[i]
		if bk.epoch > e-budgetBuckets && bk.epoch <= e {
			firsts += bk.firsts
			retries += bk.retries
		}
	}
	return firsts, retries
}

// RecordFirst counts a logical request's first attempt at now.
func (b *Budget) RecordFirst(now time.Time) {
	b.mu.Lock()
	b.bucket(now).firsts++
	b.mu.Unlock()
}

// AllowRetry reports whether one retry may be sent at now, and if so
// counts it. A refusal is counted too (see Refused).
func (b *Budget) AllowRetry(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.bucket(now)
	firsts, retries := b.sums(now)
	if float64(retries) >= float64(b.cfg.MinRetries)+b.cfg.Ratio*float64(firsts) {
		b.refused++
		return false
	}
	bk.retries++
	return true
}

// Refused returns how many retries AllowRetry has refused so far.
func (b *Budget) Refused() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.refused
}

// budgetKey identifies one Budget in a Client.
type budgetKey struct {
	key string
	cfg BudgetConfig
}
