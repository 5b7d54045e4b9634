package harness

import (
	"sync/atomic"
	"time"
)

// leaseClock is a node's clock for leader leases: the real monotonic
// clock plus an offset that JumpClock moves.
type leaseClock struct{ offset atomic.Int64 }

func (l *leaseClock) now() time.Time { return time.Now().Add(time.Duration(l.offset.Load())) }

// JumpClock moves node id's lease clock by d (back when negative), as a
// misbehaving clock would: forward, the node's leases end early; back by
// more than the drift a lease allows for (replica.LeaseDuration), a
// leader could serve stale reads.
func (c *Cluster) JumpClock(id uint64, d time.Duration) {
	c.node(id).clock.offset.Add(int64(d))
}

// Freeze stops node id as SIGSTOP would: its messages are held (Pause)
// and its replicas' ticks stop, so its leaders never see that they lost
// their quorum. Reads sent to its store are still served, the worst a
// stopped process's queued requests could do when it runs again. Thaw
// ends it.
func (c *Cluster) Freeze(id uint64) {
	c.Pause(id)
	if st := c.Store(id); st != nil {
		st.HoldTicks(true)
	}
}

// Thaw ends a Freeze.
func (c *Cluster) Thaw(id uint64) {
	if st := c.Store(id); st != nil {
		st.HoldTicks(false)
	}
	c.Resume(id)
}

// electionTimeout is a node's election timeout: its election ticks of the
// cluster's tick.
func (c *Cluster) electionTimeout() time.Duration {
	return time.Duration(c.StoreConfig(1).Replica.ElectionTicks) * c.cfg.TickInterval
}
