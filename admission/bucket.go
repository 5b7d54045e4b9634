package admission

import "time"

// bucket is a token bucket of capacity units. tokens may go negative: a
// request admitted with little left pays in full, and the bucket is in
// debt until the refill covers it.
type bucket struct {
	rate   float64 // units added per second
	burst  float64 // most units held
	tokens float64
	last   time.Time // when tokens was last refilled
}

// newBucket returns a bucket holding one second of rate (at most burst).
func newBucket(rate, burst float64, now time.Time) *bucket {
	return &bucket{rate: rate, burst: burst, tokens: min(rate, burst), last: now}
}

// refill adds what accrued since the last refill.
func (b *bucket) refill(now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.burst, b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
}

// available says whether the bucket holds any tokens at now.
func (b *bucket) available(now time.Time) bool {
	b.refill(now)
	return b.tokens > 0
}

// take spends n units (n may be negative: a refund).
func (b *bucket) take(n float64) { b.tokens = min(b.burst, b.tokens-n) }

// reset changes the rate and burst from now on, keeping what accrued at
// the old rate (up to the new burst).
func (b *bucket) reset(rate, burst float64, now time.Time) {
	b.refill(now)
	b.rate, b.burst = rate, burst
	b.tokens = min(b.tokens, burst)
}
