package catalog

import (
	"encoding/json"
	"slices"
	"sync"
)

// Store holds entities created through catalogued routes, keyed by org and
// concrete path, each listed in its collection (the path without its last
// segment) in creation order. It holds at most max entries, deleted ones
// (remembered so that they answer 404, not a synthetic body) included;
// one more forgets the oldest. It is safe for concurrent use.
type Store struct {
	mu    sync.RWMutex
	max   int
	items map[string]*entity
	colls map[string][]string // org+coll → keys, oldest first
	fifo  []string            // keys in insertion order; fifo[head:] are live
	head  int
}

type entity struct {
	body    map[string]any
	raw     []byte
	coll    string // org+coll
	deleted bool
}

// Lookup results.
type state uint8

const (
	absent state = iota
	present
	deleted
)

// NewStore returns a store of at most max entities (max > 0).
func NewStore(max int) *Store {
	return &Store{max: max, items: map[string]*entity{}, colls: map[string][]string{}}
}

func key(org, path string) string { return org + "\x00" + path }

// get returns the stored body of org's entity at path.
func (s *Store) get(org, path string) ([]byte, state) {
	// The key is built on the stack: m[string(b)] does not allocate.
	var buf [192]byte
	k := append(append(append(buf[:0], org...), 0), path...)
	s.mu.RLock()
	e := s.items[string(k)]
	s.mu.RUnlock()
	switch {
	case e == nil:
		return nil, absent
	case e.deleted:
		return nil, deleted
	}
	return e.raw, present
}

// update replaces org's entity at path (in collection coll) by what fn
// returns given the current body (nil when absent or deleted). fn runs
// under the store's lock: it must be quick and must not call the store.
// A non-nil error from fn leaves the store unchanged.
func (s *Store) update(org, path, coll string, fn func(old map[string]any, st state) (map[string]any, error)) ([]byte, error) {
	k := key(org, path)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.items[k]
	st := absent
	var old map[string]any
	if e != nil {
		st = present
		if e.deleted {
			st = deleted
		} else {
			old = e.body
		}
	}
	body, err := fn(old, st)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	ck := key(org, coll)
	switch {
	case e == nil:
		e = &entity{coll: ck}
		s.items[k] = e
		s.fifo = append(s.fifo, k)
		s.colls[ck] = append(s.colls[ck], k)
		s.evict()
	case e.deleted:
		s.colls[ck] = append(s.colls[ck], k)
	}
	e.body, e.raw, e.deleted = body, raw, false
	return raw, nil
}

// remove deletes org's entity at path and remembers that it was deleted.
// It reports the state before.
func (s *Store) remove(org, path, coll string) state {
	k := key(org, path)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.items[k]
	switch {
	case e == nil:
		s.items[k] = &entity{coll: key(org, coll), deleted: true}
		s.fifo = append(s.fifo, k)
		s.evict()
		return absent
	case e.deleted:
		return deleted
	}
	s.unlist(e.coll, k)
	e.body, e.raw, e.deleted = nil, nil, true
	return present
}

// list returns up to limit bodies of org's collection coll from offset,
// oldest first, and the collection's size. The bodies are shared: callers
// must not change them.
func (s *Store) list(org, coll string, offset, limit int) ([]map[string]any, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := s.colls[key(org, coll)]
	var out []map[string]any
	for i := offset; i < len(keys) && len(out) < limit; i++ {
		out = append(out, s.items[keys[i]].body)
	}
	return out, len(keys)
}

// Len returns how many entities (deleted ones included) the store holds.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.items)
}

// Reset forgets every entity.
func (s *Store) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items, s.colls, s.fifo, s.head = map[string]*entity{}, map[string][]string{}, nil, 0
}

// evict forgets the oldest entries above max. Called with mu held.
func (s *Store) evict() {
	for len(s.items) > s.max && s.head < len(s.fifo) {
		k := s.fifo[s.head]
		s.fifo[s.head] = ""
		s.head++
		if e := s.items[k]; e != nil {
			if !e.deleted {
				s.unlist(e.coll, k)
			}
			delete(s.items, k)
		}
	}
	// Compact the queue once its dead prefix is as long as its live part.
	if s.head > 1024 && s.head*2 > len(s.fifo) {
		s.fifo = append([]string(nil), s.fifo[s.head:]...)
		s.head = 0
	}
}

func (s *Store) unlist(coll, k string) {
	keys := s.colls[coll]
	if i := slices.Index(keys, k); i >= 0 {
		keys = slices.Delete(keys, i, i+1)
	}
	if len(keys) == 0 {
		delete(s.colls, coll)
	} else {
		s.colls[coll] = keys
	}
}
