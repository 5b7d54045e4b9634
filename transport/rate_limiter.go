package transport

import (
	"context"
	"sync"
	"time"
)

// tokenBucket limits a flow of bytes to rate per second with bursts of up
// to burst bytes. A take larger than the tokens left goes into debt: the
// caller waits until the debt is repaid, so takes of any size pass and the
// long-run rate holds. It is safe for concurrent use.
type tokenBucket struct {
	now   func() time.Time
	rate  float64 // bytes per second
	burst float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newTokenBucket(rate int64, burst int, now func() time.Time) *tokenBucket {
	return &tokenBucket{now: now, rate: float64(rate), burst: float64(burst), tokens: float64(burst), last: now()}
}

// reserve takes n tokens and returns how long the caller must wait before
// using them.
func (b *tokenBucket) reserve(n int) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(b.burst, b.tokens+elapsed.Seconds()*b.rate)
		b.last = now
	}
	if b.rate <= 0 { // unlimited
		b.tokens = b.burst
		return 0
	}
	b.tokens -= float64(n)
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// wait takes n tokens, waiting as long as the rate requires or until ctx
// ends. It returns the time it waited.
func (b *tokenBucket) wait(ctx context.Context, n int) (time.Duration, error) {
	d := b.reserve(n)
	if d <= 0 {
		return 0, nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return d, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// setRate changes the rate from now on (0: unlimited), keeping the tokens
// accrued.
func (b *tokenBucket) setRate(rate int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if elapsed := now.Sub(b.last); elapsed > 0 && b.rate > 0 {
		b.tokens = min(b.burst, b.tokens+elapsed.Seconds()*b.rate)
	}
	b.last, b.rate = now, float64(rate)
}
