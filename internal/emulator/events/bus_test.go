package events

import (
	"fmt"
	"sync"
	"testing"
)

type queueSub struct{ q *Queue }

func (s queueSub) Deliver(e Event) { s.q.Push(e) }

func TestPublishOrderAndDrops(t *testing.T) {
	t.Parallel()
	b := New()
	q := NewQueue(3)
	s := queueSub{q}
	b.Subscribe(s, "a", "b")
	for i := range 5 {
		b.Publish("c", map[string]int{"n": i}, "a")
	}
	b.Publish("c", "ignored", "nobody")
	if q.Len() != 3 || q.Dropped() != 2 {
		t.Fatalf("len %d dropped %d, want 3 and 2", q.Len(), q.Dropped())
	}
	for i := range 3 {
		e := <-q.C()
		if want := fmt.Sprintf(`{"n":%d}`, i); string(e.Body) != want || e.Topic != "a" || e.CorrelationID != "c" {
			t.Errorf("event %d = %+v, want body %s", i, e, want)
		}
	}
	b.Unsubscribe(s, "a")
	b.Publish("", 1, "a")
	if q.Len() != 0 || b.Subscribed("a") || !b.Subscribed("b") {
		t.Errorf("after Unsubscribe: len %d, subscribed a %v b %v", q.Len(), b.Subscribed("a"), b.Subscribed("b"))
	}
}

// TestPublishNeverBlocks publishes far more than a full queue holds from
// many goroutines; the test finishing is the assertion.
func TestPublishNeverBlocks(t *testing.T) {
	t.Parallel()
	b := New()
	q := NewQueue(1)
	b.Subscribe(queueSub{q}, "t")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				b.Publish("", 1, "t")
			}
		})
	}
	wg.Wait()
	if q.Dropped() != 8000-1 {
		t.Errorf("dropped %d, want %d", q.Dropped(), 8000-1)
	}
}
