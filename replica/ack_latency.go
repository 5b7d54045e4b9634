package replica

import (
	"sort"
	"time"

	"go.etcd.io/raft/v3"
)

// ackClock measures, on a leader, how long each follower takes to
// acknowledge entries: from the leader's append of an entry to the
// follower's MsgAppResp covering it. A follower with a slow disk
// acknowledges late whatever the load, where its lag in entries shows
// only under heavy load; the Doctor reads this as one leader's vantage on
// a sick node.
type ackClock struct {
	// appends are the leader's recent appends, oldest first: the last
	// index of each batch and when it was appended. A ring of ackRing.
	appends [ackRing]ackAppend
	head, n int
	// followers: by node, the highest index acknowledged and the moving
	// average of the latency of acknowledgements that advanced it.
	followers map[uint64]*ackStat
}

const ackRing = 512

type ackAppend struct {
	first, index uint64 // the batch's first and last entries
	at           time.Time
}

type ackStat struct {
	acked   uint64
	latency time.Duration // moving average, weight 1/8 per sample
	samples int
}

// appended records that the leader appended entries first to index at t.
func (c *ackClock) appended(first, index uint64, t time.Time) {
	if c.n > 0 {
		last := c.appends[(c.head+c.n-1)%ackRing]
		if first <= last.index { // a new term overwrote the tail: start over
			c.head, c.n = 0, 0
		}
	}
	if c.n == ackRing {
		c.head = (c.head + 1) % ackRing
		c.n--
	}
	c.appends[(c.head+c.n)%ackRing] = ackAppend{first: first, index: index, at: t}
	c.n++
}

// acked records that follower acknowledged entries up to index at t. An
// acknowledgement that does not advance the follower, or of entries
// older than the ring (appended by an earlier leader), is no sample.
func (c *ackClock) acked(follower, index uint64, t time.Time) {
	if c.followers == nil {
		c.followers = make(map[uint64]*ackStat)
	}
	s := c.followers[follower]
	if s == nil {
		s = &ackStat{}
		c.followers[follower] = s
	}
	if index <= s.acked {
		return
	}
	s.acked = index
	// The batch holding index: the first append whose last index is >= it.
	i := sort.Search(c.n, func(i int) bool { return c.appends[(c.head+i)%ackRing].index >= index })
	if i == c.n || index < c.appends[(c.head+i)%ackRing].first {
		return // not appended by this leader, or older than the ring
	}
	sample := max(t.Sub(c.appends[(c.head+i)%ackRing].at), 0)
	if s.samples == 0 {
		s.latency = sample
	} else {
		s.latency += (sample - s.latency) / 8
	}
	s.samples++
}

// latency is follower's moving average acknowledgement latency; 0 when
// it has acknowledged nothing this leader appended.
func (c *ackClock) latency(follower uint64) time.Duration {
	if s := c.followers[follower]; s != nil && s.samples > 0 {
		return max(s.latency, 1)
	}
	return 0
}

// reset forgets everything: the replica stopped or started leading.
func (c *ackClock) reset() {
	c.head, c.n = 0, 0
	clear(c.followers)
}

// noteAppends records the entries rd appends when this replica leads (as
// of rd: the Ready that makes it leader carries its first entry), and
// forgets the clock when the leader changes. Called under mu by Collect.
func (r *Replica) noteAppends(rd raft.Ready) {
	lead := r.lead
	if rd.SoftState != nil && rd.SoftState.Lead != lead {
		lead = rd.SoftState.Lead
		r.acks.reset()
	}
	if n := len(rd.Entries); n > 0 && lead == r.cfg.ID {
		r.acks.appended(rd.Entries[0].Index, rd.Entries[n-1].Index, r.cfg.Now())
	}
}
