package bench

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// progress prints a live line once a second: throughput and p99 over the
// last second, and errors so far. Its methods are no-ops on nil.
type progress struct {
	w       io.Writer
	ops     atomic.Int64
	errs    atomic.Int64
	windows []*window
}

// window is the latencies a client recorded since the last tick.
type window struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
}

func (w *window) record(us int64) {
	if w == nil {
		return
	}
	w.mu.Lock()
	_ = w.h.RecordValue(us)
	w.mu.Unlock()
}

// drainInto adds the window to h and empties it.
func (w *window) drainInto(h *hdrhistogram.Histogram) {
	w.mu.Lock()
	h.Merge(w.h)
	w.h.Reset()
	w.mu.Unlock()
}

// newProgress attaches a window to every client.
func newProgress(w io.Writer, clients []*client) *progress {
	p := &progress{w: w}
	for _, c := range clients {
		c.window = &window{h: newHistogram()}
		c.prog = p
		p.windows = append(p.windows, c.window)
	}
	return p
}

func (p *progress) done() {
	if p != nil {
		p.ops.Add(1)
	}
}

func (p *progress) failed() {
	if p != nil {
		p.errs.Add(1)
	}
}

// start ticks until the returned stop is called; stop clears the line.
func (p *progress) start(t0 time.Time) (stop func()) {
	if p == nil {
		return func() {}
	}
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		last, lastOps := t0, int64(0)
		h := newHistogram()
		for {
			select {
			case <-quit:
				fmt.Fprint(p.w, "\r\033[K")
				return
			case now := <-tick.C:
				ops := p.ops.Load()
				h.Reset()
				for _, w := range p.windows {
					w.drainInto(h)
				}
				rate := float64(ops-lastOps) / now.Sub(last).Seconds()
				fmt.Fprint(p.w, progressLine(now.Sub(t0), rate, time.Duration(h.ValueAtQuantile(99))*time.Microsecond, p.errs.Load()))
				last, lastOps = now, ops
			}
		}
	}()
	return func() { close(quit); <-finished }
}

// progressLine is one rewrite of the progress line.
func progressLine(elapsed time.Duration, opsPerSec float64, p99 time.Duration, errors int64) string {
	return fmt.Sprintf("\r\033[K%4ds  %9.0f ops/s  p99 %-9v  errors %d",
		int(elapsed.Round(time.Second)/time.Second), opsPerSec, p99.Round(10*time.Microsecond), errors)
}
