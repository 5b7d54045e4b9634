package daemon

import (
	"errors"
	"math"
	"time"
)

// Backoff spaces the retries that follow failed cycles: the n-th
// consecutive failure waits Initial * Multiplier^(n-1), capped at Max.
// A success resets the count.
type Backoff struct {
	// Initial is the wait after the first failure; 0 means 1s. Continuous
	// jobs also wait Initial before restarting a cycle that returned nil.
	Initial time.Duration
	// Max caps the wait; 0 means one minute (or Initial, if larger).
	Max time.Duration
	// Multiplier grows the wait after each further failure; 0 means 2.
	// It must be at least 1.
	Multiplier float64
	// MaxRetries, for periodic and triggered jobs, is how many retries
	// follow a failed cycle before the job gives up and waits for its next
	// interval or trigger; 0 means no limit. Continuous jobs always
	// restart.
	MaxRetries int
}

// DefaultBackoff returns the backoff used for zero fields: 1s doubling up
// to one minute, retried without limit.
func DefaultBackoff() Backoff {
	return Backoff{Initial: time.Second, Max: time.Minute, Multiplier: 2}
}

// Validate rejects negative values, a Multiplier below 1 and a Max below
// Initial.
func (b Backoff) Validate() error {
	switch {
	case b.Initial < 0 || b.Max < 0 || b.MaxRetries < 0:
		return errors.New("negative Backoff field")
	case b.Multiplier != 0 && (b.Multiplier < 1 || math.IsNaN(b.Multiplier) || math.IsInf(b.Multiplier, 0)):
		return errors.New("Backoff.Multiplier must be a finite number >= 1")
	case b.Max != 0 && b.Initial > b.Max:
		return errors.New("Backoff.Max is below Backoff.Initial")
	}
	return nil
}

func (b Backoff) withDefaults() Backoff {
	d := DefaultBackoff()
	if b.Initial == 0 {
		b.Initial = d.Initial
	}
	if b.Max == 0 {
		b.Max = max(d.Max, b.Initial)
	}
	if b.Multiplier == 0 {
		b.Multiplier = d.Multiplier
	}
	return b
}

// Delay returns the wait after the given number of consecutive failures
// (at least 1), with zero fields defaulted. It never exceeds Max.
func (b Backoff) Delay(failures int) time.Duration {
	b = b.withDefaults()
	if failures < 1 {
		failures = 1
	}
	f := float64(b.Initial) * math.Pow(b.Multiplier, float64(failures-1))
	if math.IsNaN(f) || f >= float64(b.Max) {
		return b.Max
	}
	return time.Duration(f)
}

// retry reports whether a job that failed this many consecutive times
// should retry rather than wait for its normal schedule.
func (b Backoff) retry(kind Kind, failures int) bool {
	return kind == Continuous || b.MaxRetries == 0 || failures <= b.MaxRetries
}
