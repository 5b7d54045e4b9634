package daemon

import (
	"context"
	"sync"
	"time"
)

// FakeClock is a Clock that only moves when told to. Advance fires the
// timers that fall due, in deadline order, before it returns; BlockUntil
// lets a test wait until the goroutines under test are parked on the clock
// (or have stopped waiting on it),
// so tests step through schedules without sleeping.
//
// A goroutine counts as blocked on the clock while a channel timer it made
// (NewTimer, After) is pending: from creation until it fires or is stopped.
// AfterFunc timers do not count, since no goroutine waits on them.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	seq     uint64
	timers  []*fakeTimer
	waiters []*blockWaiter
}

type blockWaiter struct {
	n  int
	ch chan struct{}
}

var _ Clock = (*FakeClock)(nil)

// NewFakeClock returns a FakeClock that reads start until advanced.
func NewFakeClock(start time.Time) *FakeClock {
	return &FakeClock{now: start}
}

// Now returns the clock's current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Since returns c.Now().Sub(t).
func (c *FakeClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// NewTimer returns a timer that fires once the clock has advanced by d, or
// at once if d <= 0.
func (c *FakeClock) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{clock: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.schedule(t, d)
	c.notify()
	return t
}

// After returns the channel of a new timer of duration d.
func (c *FakeClock) After(d time.Duration) <-chan time.Time { return c.NewTimer(d).C() }

// AfterFunc returns a timer that calls f, in the goroutine calling Advance,
// once the clock has advanced by d.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) Timer {
	t := &fakeTimer{clock: c, fn: f}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.schedule(t, d)
	return t
}

// Advance moves the clock forward by d. Every timer due by then fires in
// deadline order (creation order among equal deadlines), with the clock set
// to its deadline while it fires; the clock then reads the old time plus d.
// Timers created by goroutines woken during Advance fire only if they are
// due and created before Advance returns; do not rely on that, step instead.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	for c.fireNext(target) {
	}
	c.mu.Lock()
	if target.After(c.now) {
		c.now = target
	}
	c.mu.Unlock()
}

// fireNext fires the earliest timer due by target and reports whether there
// was one.
func (c *FakeClock) fireNext(target time.Time) bool {
	c.mu.Lock()
	t := c.earliest()
	if t == nil || t.when.After(target) {
		c.mu.Unlock()
		return false
	}
	c.remove(t)
	c.notify()
	if t.when.After(c.now) {
		c.now = t.when
	}
	if t.fn == nil {
		select {
		case t.ch <- t.when:
		default:
		}
		c.mu.Unlock()
		return true
	}
	c.mu.Unlock()
	t.fn()
	return true
}

// Waiters returns how many channel timers are pending: the number of
// goroutines blocked on the clock, when each waits on one timer.
func (c *FakeClock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waiting()
}

// NextDeadline returns the deadline of the earliest pending timer of any
// kind, and false when none is pending.
func (c *FakeClock) NextDeadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.earliest(); t != nil {
		return t.when, true
	}
	return time.Time{}, false
}

// BlockUntil waits until exactly n goroutines are blocked on the clock
// (see Waiters). Waiting for 0 tells that a goroutine stopped its timer.
func (c *FakeClock) BlockUntil(n int) {
	_ = c.BlockUntilContext(context.Background(), n)
}

// BlockUntilContext is BlockUntil that gives up when ctx ends, returning
// ctx's error.
func (c *FakeClock) BlockUntilContext(ctx context.Context, n int) error {
	c.mu.Lock()
	if c.waiting() == n {
		c.mu.Unlock()
		return nil
	}
	w := &blockWaiter{n: n, ch: make(chan struct{})}
	c.waiters = append(c.waiters, w)
	c.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		c.dropWaiter(w)
		c.mu.Unlock()
		return ctx.Err()
	}
}

// schedule makes t pending, due d from now. As with package time, a
// channel timer of d <= 0 fires at once and an AfterFunc timer of d <= 0
// calls its function in a new goroutine. c.mu is held; the caller
// notifies.
func (c *FakeClock) schedule(t *fakeTimer, d time.Duration) {
	t.when = c.now.Add(d)
	if d <= 0 {
		if t.fn != nil {
			go t.fn()
			return
		}
		t.ch <- c.now // the channel is empty: drained or new
		return
	}
	c.seq++
	t.seq = c.seq
	t.pending = true
	c.timers = append(c.timers, t)
}

// remove makes t not pending. c.mu is held; the caller notifies.
func (c *FakeClock) remove(t *fakeTimer) bool {
	if !t.pending {
		return false
	}
	t.pending = false
	for i, o := range c.timers {
		if o == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			break
		}
	}
	return true
}

// earliest returns the pending timer due first. c.mu is held.
func (c *FakeClock) earliest() *fakeTimer {
	var best *fakeTimer
	for _, t := range c.timers {
		if best == nil || t.when.Before(best.when) || (t.when.Equal(best.when) && t.seq < best.seq) {
			best = t
		}
	}
	return best
}

// waiting counts pending channel timers. c.mu is held.
func (c *FakeClock) waiting() int {
	n := 0
	for _, t := range c.timers {
		if t.fn == nil {
			n++
		}
	}
	return n
}

// notify releases the BlockUntil callers now satisfied. c.mu is held.
func (c *FakeClock) notify() {
	n := c.waiting()
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if n == w.n {
			close(w.ch)
			continue
		}
		kept = append(kept, w)
	}
	c.waiters = kept
}

func (c *FakeClock) dropWaiter(w *blockWaiter) {
	for i, o := range c.waiters {
		if o == w {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			return
		}
	}
}

type fakeTimer struct {
	clock   *FakeClock
	ch      chan time.Time // nil for AfterFunc timers
	fn      func()
	when    time.Time
	seq     uint64
	pending bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	t.drain()
	was := c.remove(t)
	c.notify()
	return was
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	t.drain()
	was := c.remove(t)
	c.schedule(t, d)
	c.notify()
	return was
}

// drain discards a fired but unreceived value. The clock's mu is held.
func (t *fakeTimer) drain() {
	if t.ch == nil {
		return
	}
	select {
	case <-t.ch:
	default:
	}
}
