package replica

import (
	"testing"
	"time"
)

func TestAckClock(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	var c ackClock
	c.appended(9, 10, ms(0))
	c.appended(11, 12, ms(5))
	c.acked(2, 11, ms(100)) // entry 11 went out with the batch ending at 12
	if got := c.latency(2); got != 95*time.Millisecond {
		t.Fatalf("first sample: latency %v, want 95ms", got)
	}
	c.acked(2, 11, ms(900)) // no advance: a probe's answer, no sample
	if got := c.latency(2); got != 95*time.Millisecond {
		t.Fatalf("repeated ack moved latency to %v", got)
	}
	c.appended(13, 13, ms(200))
	c.acked(2, 13, ms(215)) // 15ms: the average moves an eighth of the way
	if got, want := c.latency(2), 95*time.Millisecond+(15-95)*time.Millisecond/8; got != want {
		t.Fatalf("average: %v, want %v", got, want)
	}
	if c.latency(3) != 0 {
		t.Fatal("a follower that acknowledged nothing has a latency")
	}
	c.acked(3, 8, ms(300)) // appended before this clock started: no sample
	if c.latency(3) != 0 {
		t.Fatal("an entry this leader did not time gave a sample")
	}

	// A new leader's tail below the last index starts the ring over.
	c.appended(11, 11, ms(400))
	c.acked(4, 11, ms(410))
	if got := c.latency(4); got != 10*time.Millisecond {
		t.Fatalf("after overwrite: %v, want 10ms", got)
	}

	// Past the ring's capacity, the oldest appends are forgotten.
	c.reset()
	for i := range ackRing + 10 {
		c.appended(uint64(100+i), uint64(100+i), ms(i))
	}
	c.acked(5, 100, ms(5000))
	if c.latency(5) != 0 {
		t.Fatal("an append older than the ring gave a sample")
	}
	c.acked(5, uint64(100+ackRing+9), ms(ackRing+9+7))
	if got := c.latency(5); got != 7*time.Millisecond {
		t.Fatalf("newest append: %v, want 7ms", got)
	}
}
