package conversations

import (
	"fmt"
	"testing"
	"time"
)

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	m := NewMemory(3)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var evicted []string
	for i := range 5 {
		c := &Conversation{ID: fmt.Sprint("c", i), Start: t0.Add(time.Duration(i) * time.Minute)}
		if ev := m.Add(c); ev != nil {
			evicted = append(evicted, ev.ID)
		}
	}
	if fmt.Sprint(evicted) != "[c0 c1]" || m.Len() != 3 {
		t.Errorf("evicted %v, len %d", evicted, m.Len())
	}
	if _, ok := m.Get("c1"); ok {
		t.Error("c1 still stored")
	}
	var got []string
	m.Range(t0.Add(3*time.Minute), time.Time{}, func(c *Conversation) bool { got = append(got, c.ID); return true })
	if fmt.Sprint(got) != "[c3 c4]" {
		t.Errorf("Range from +3m = %v", got)
	}
	got = nil
	m.Range(time.Time{}, t0.Add(4*time.Minute), func(c *Conversation) bool { got = append(got, c.ID); return true })
	if fmt.Sprint(got) != "[c2 c3]" {
		t.Errorf("Range to +4m = %v", got)
	}
	m.Reset()
	if m.Len() != 0 {
		t.Error("Reset left conversations")
	}
}
