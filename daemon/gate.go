package daemon

import (
	"context"
	"sync"
)

// gate is open while a job is not paused. Workers wait on it before taking
// an item and select on its shut channel while waiting for one, so that
// Pause stops them from taking more.
type gate struct {
	mu     sync.Mutex
	paused bool
	open   chan struct{} // closed while not paused
	shut   chan struct{} // closed while paused
}

func newGate() *gate {
	g := &gate{open: make(chan struct{}), shut: make(chan struct{})}
	close(g.open)
	return g
}

// set pauses or resumes.
func (g *gate) set(paused bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if paused == g.paused {
		return
	}
	g.paused = paused
	if paused {
		g.open = make(chan struct{})
		close(g.shut)
		return
	}
	g.shut = make(chan struct{})
	close(g.open)
}

// chans returns the current open and shut channels.
func (g *gate) chans() (open, shut <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open, g.shut
}

// waitOpen waits while paused; false when ctx ends first.
func (g *gate) waitOpen(ctx context.Context) bool {
	open, _ := g.chans()
	select {
	case <-open:
		return true
	default:
	}
	select {
	case <-open:
		return true
	case <-ctx.Done():
		return false
	}
}
