package replica

import (
	"context"
	"slices"
	"sync"
)

// latches are a leader's per-key latches. A write holds its item's latch
// from before its evaluation until it is proposed: a second write of the
// item evaluates only over a state that holds the first (applied, or in
// flight: replica.pending). Waiters are served in order, each
// handed the latch by its predecessor's release: a hot key wakes one
// writer per release, not all of them. Safe for concurrent use.
type latches struct {
	mu   sync.Mutex
	held map[string]*latchQueue
}

// latchQueue is a held latch's waiters, first in line first; a waiter's
// channel is closed when the latch is handed to it.
type latchQueue struct{ waiters []chan struct{} }

func newLatches() *latches { return &latches{held: make(map[string]*latchQueue)} }

// acquire takes key's latch, waiting for the writers ahead; it fails with
// ctx's error if ctx ends first.
func (l *latches) acquire(ctx context.Context, key string) error {
	l.mu.Lock()
	q, busy := l.held[key]
	if !busy {
		l.held[key] = &latchQueue{}
		l.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	q.waiters = append(q.waiters, ch)
	l.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	if i := slices.Index(q.waiters, ch); i >= 0 {
		q.waiters = slices.Delete(q.waiters, i, i+1)
		l.mu.Unlock()
		return ctx.Err()
	}
	l.mu.Unlock()
	// Handed the latch as ctx ended: pass it on.
	l.release(key)
	return ctx.Err()
}

// release frees key's latch, handing it to the first waiter if any.
func (l *latches) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	q, ok := l.held[key]
	if !ok {
		return
	}
	if len(q.waiters) == 0 {
		delete(l.held, key)
		return
	}
	next := q.waiters[0]
	q.waiters = q.waiters[1:]
	close(next)
}
