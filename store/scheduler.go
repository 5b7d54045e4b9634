package store

import "sync"

// scheduler is the queue of replicas with work. A replica is queued at most
// once; workers take batches of replicas to process together.
type scheduler struct {
	mu     sync.Mutex
	cond   *sync.Cond
	queued map[uint64]bool
	queue  []uint64
	closed bool
}

func newScheduler() *scheduler {
	s := &scheduler{queued: make(map[uint64]bool)}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// enqueue marks partition as having work.
func (s *scheduler) enqueue(partition uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queued[partition] || s.closed {
		return
	}
	s.queued[partition] = true
	s.queue = append(s.queue, partition)
	s.cond.Signal()
}

// next blocks until work is queued and returns up to max partitions, or nil
// once the scheduler is closed.
func (s *scheduler) next(max int) []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.queue) == 0 && !s.closed {
		s.cond.Wait()
	}
	if s.closed {
		return nil
	}
	n := min(max, len(s.queue))
	out := append([]uint64(nil), s.queue[:n]...)
	s.queue = s.queue[n:]
	for _, id := range out {
		delete(s.queued, id)
	}
	return out
}

// close wakes every waiting worker and makes next return nil.
func (s *scheduler) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.cond.Broadcast()
}
