package admission

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := NewLimiter(10, 20, func() time.Time { return now })
	allowed := func(n int) int {
		got := 0
		for range n {
			if l.Allow() {
				got++
			}
		}
		return got
	}
	if got := allowed(100); got != 20 {
		t.Fatalf("a full limiter allowed %d of 100, want its burst of 20", got)
	}
	now = now.Add(time.Second)
	if got := allowed(100); got != 10 {
		t.Fatalf("a second later it allowed %d, want the rate of 10", got)
	}
	now = now.Add(time.Hour)
	if got := allowed(100); got != 20 {
		t.Fatalf("after an hour it allowed %d, want no more than the burst of 20", got)
	}
	now = now.Add(50 * time.Millisecond)
	if got := allowed(1); got != 0 {
		t.Fatalf("half a token allowed an event")
	}
}
