package replica

import (
	"context"
	"sync"
)

// latches are a leader's per-key latches. A write holds its item's latch
// from before its evaluation until its Effects apply here or can no longer
// apply (leadership lost): a second write of the item evaluates only
// against a state that holds the first. Safe for concurrent use.
type latches struct {
	mu   sync.Mutex
	held map[string]chan struct{} // closed on release
}

func newLatches() *latches { return &latches{held: make(map[string]chan struct{})} }

// acquire takes key's latch, waiting for its holder; it fails with ctx's
// error if ctx ends first.
func (l *latches) acquire(ctx context.Context, key string) error {
	for {
		l.mu.Lock()
		ch, busy := l.held[key]
		if !busy {
			l.held[key] = make(chan struct{})
			l.mu.Unlock()
			return nil
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release frees key's latch.
func (l *latches) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ch, ok := l.held[key]; ok {
		close(ch)
		delete(l.held, key)
	}
}
