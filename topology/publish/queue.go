package publish

import "sync"

// pending is one encoded snapshot waiting for the bucket.
type pending struct {
	id   uint64 // queue order
	key  string
	data []byte
}

// queue holds the snapshots not yet written, oldest first, within a
// bound in snapshots and in bytes. push never blocks: it drops the oldest
// snapshots to make room. The consumer peeks at the oldest, writes it, and
// removes it by id (it may have been dropped meanwhile).
type queue struct {
	maxItems int
	maxBytes int

	mu     sync.Mutex
	items  []pending
	bytes  int
	nextID uint64
	ready  chan struct{} // a token when items may be waiting
}

func newQueue(maxItems, maxBytes int) *queue {
	return &queue{maxItems: maxItems, maxBytes: maxBytes, ready: make(chan struct{}, 1)}
}

// push appends p and returns how many older snapshots it dropped. The
// newest snapshot is always kept, even when alone it exceeds maxBytes.
func (q *queue) push(key string, data []byte) (dropped int) {
	q.mu.Lock()
	q.nextID++
	q.items = append(q.items, pending{id: q.nextID, key: key, data: data})
	q.bytes += len(data)
	for len(q.items) > 1 && (len(q.items) > q.maxItems || q.bytes > q.maxBytes) {
		q.dropFrontLocked()
		dropped++
	}
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return dropped
}

func (q *queue) dropFrontLocked() {
	q.bytes -= len(q.items[0].data)
	q.items[0] = pending{} // release the data
	q.items = q.items[1:]
}

// peek returns the oldest snapshot, if any.
func (q *queue) peek() (pending, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return pending{}, false
	}
	return q.items[0], true
}

// remove drops the snapshot id if it is still the oldest.
func (q *queue) remove(id uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) > 0 && q.items[0].id == id {
		q.dropFrontLocked()
	}
}

// depth returns the snapshots and bytes queued.
func (q *queue) depth() (items, bytes int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items), q.bytes
}
