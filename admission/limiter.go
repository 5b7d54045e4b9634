package admission

import (
	"sync"
	"time"
)

// Limiter admits events at a steady rate with a burst: the control plane's
// limit on table operations, beyond which DynamoDB answers
// ThrottlingException. It is safe for concurrent use.
type Limiter struct {
	now func() time.Time
	mu  sync.Mutex
	b   *bucket
}

// NewLimiter returns a limiter of rate events per second holding up to
// burst, full at first. now is the clock (nil: time.Now).
func NewLimiter(rate float64, burst int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	b := newBucket(rate, float64(burst), now())
	b.tokens = float64(burst)
	return &Limiter{now: now, b: b}
}

// Allow takes one event's token, or reports that none is left.
func (l *Limiter) Allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.refill(l.now())
	if l.b.tokens < 1 {
		return false
	}
	l.b.take(1)
	return true
}

// SetRate changes the rate and burst from now on, keeping the tokens
// accrued (up to the new burst).
func (l *Limiter) SetRate(rate float64, burst int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.reset(rate, float64(burst), l.now())
}
