package daemon

import "sync"

// timeline keeps the most recent cycle records of one job in a ring.
type timeline struct {
	mu    sync.Mutex
	ring  []CycleRecord
	next  int // index the next record goes to
	count int // records held, up to len(ring)
}

// newTimeline returns a timeline keeping up to size records; size 0 keeps
// none.
func newTimeline(size int) *timeline {
	return &timeline{ring: make([]CycleRecord, size)}
}

// add appends r, dropping the oldest record when full.
func (t *timeline) add(r CycleRecord) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.ring) == 0 {
		return
	}
	t.ring[t.next] = r
	t.next = (t.next + 1) % len(t.ring)
	t.count = min(t.count+1, len(t.ring))
}

// records returns the records held, oldest first.
func (t *timeline) records() []CycleRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]CycleRecord, 0, t.count)
	start := (t.next - t.count + len(t.ring)) % max(len(t.ring), 1)
	for i := range t.count {
		out = append(out, t.ring[(start+i)%len(t.ring)])
	}
	return out
}
