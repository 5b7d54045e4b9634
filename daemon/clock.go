package daemon

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Clock is the source of time for the manager and its jobs. Every wait the
// framework makes (schedules, backoff, cycle timeouts) goes through it, so a
// FakeClock drives a whole manager deterministically in tests.
//
// Implementations are safe for concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Since returns the time elapsed since t.
	Since(t time.Time) time.Duration
	// NewTimer returns a timer that sends the time on its channel once d
	// has elapsed.
	NewTimer(d time.Duration) Timer
	// After is NewTimer(d).C(). The timer cannot be stopped, so prefer
	// NewTimer in loops.
	After(d time.Duration) <-chan time.Time
	// AfterFunc calls f in its own goroutine once d has elapsed (a FakeClock
	// calls it in the goroutine that advances the clock). The returned
	// timer has a nil channel.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a single-shot timer made by a Clock. Stop and Reset follow
// time.Timer since Go 1.23: after either returns, no stale value is
// received from C.
type Timer interface {
	// C returns the channel the time is sent on; nil for AfterFunc timers.
	C() <-chan time.Time
	// Stop prevents the timer from firing and reports whether it was
	// pending.
	Stop() bool
	// Reset makes the timer fire d from now and reports whether it was
	// pending.
	Reset(d time.Duration) bool
}

// RealClock returns the Clock of the wall clock, backed by package time.
func RealClock() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) Since(t time.Time) time.Duration        { return time.Since(t) }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func (realClock) NewTimer(d time.Duration) Timer {
	return realTimer{t: time.NewTimer(d)}
}

func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{t: time.AfterFunc(d, f)}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

// cycleCtx is the context of one cycle: canceled by the job's context, by
// Pause (continuous jobs) or, when the job has a timeout, by a timer of the
// job's Clock. It reports the clock's deadline, and Err returns
// context.DeadlineExceeded once the timeout fired.
type cycleCtx struct {
	context.Context
	cancel   context.CancelCauseFunc
	deadline time.Time

	mu       sync.Mutex
	timedOut bool
}

// newCycleCtx derives a cycle context from parent. With timeout > 0 it is
// canceled by clk after timeout; release stops that timer and must be
// called once the cycle is over.
func newCycleCtx(parent context.Context, clk Clock, timeout time.Duration) (c *cycleCtx, release func()) {
	inner, cancel := context.WithCancelCause(parent)
	c = &cycleCtx{Context: inner, cancel: cancel}
	if timeout <= 0 {
		return c, func() { cancel(nil) }
	}
	c.deadline = clk.Now().Add(timeout)
	t := clk.AfterFunc(timeout, func() { c.expire(timeoutError{timeout}) })
	return c, func() { t.Stop(); cancel(nil) }
}

// timeoutError is the cause of a cycle context that timed out. It matches
// ErrCycleTimeout and context.DeadlineExceeded.
type timeoutError struct{ after time.Duration }

func (e timeoutError) Error() string { return fmt.Sprintf("%v after %s", ErrCycleTimeout, e.after) }

func (e timeoutError) Is(target error) bool {
	return target == ErrCycleTimeout || target == context.DeadlineExceeded
}

// expire cancels the cycle for its timeout, unless it already ended.
func (c *cycleCtx) expire(cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Context.Err() != nil {
		return
	}
	c.timedOut = true
	c.cancel(cause)
}

// Deadline returns the clock time at which the cycle times out, or the
// parent's deadline if earlier.
func (c *cycleCtx) Deadline() (time.Time, bool) {
	parent, ok := c.Context.Deadline()
	if c.deadline.IsZero() || (ok && parent.Before(c.deadline)) {
		return parent, ok
	}
	return c.deadline, true
}

// Err returns context.DeadlineExceeded once the timeout fired, otherwise
// the error of the underlying context.
func (c *cycleCtx) Err() error {
	err := c.Context.Err()
	if err == nil {
		return nil
	}
	if c.expired() {
		return context.DeadlineExceeded
	}
	return err
}

func (c *cycleCtx) expired() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timedOut
}
