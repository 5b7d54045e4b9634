package replica

import (
	"slices"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// A leader lease lets a leader serve a strongly consistent read from its
// applied state without a raft round trip. It rests on CheckQuorum: a
// voter that has heard from its leader neither votes for another
// candidate nor campaigns until an election timeout (counted in its own
// ticks) has passed since. So when a quorum acknowledges a heartbeat the
// leader sent at time t, no other leader can be elected before t plus an
// election timeout, less the drift of the clocks that measure it.
//
// The leader learns of such acknowledgements through raft's own ReadIndex
// (ReadOnlySafe): it notes its monotonic clock before each ReadIndex
// request and, when the request's ReadState comes back (a quorum answered
// a heartbeat carrying it), holds a lease until that time plus
// Leases.Duration. A lease is valid only in the term, and with the
// voters, it was acknowledged in, after the leader has applied an entry
// of its term (ErrNotReady's gate: its state then holds every write an
// earlier leader committed), and never in a term in which it began a
// leadership transfer (its MsgTimeoutNow lets the target win an election
// at once, past the voters' promise). docs/replication.md, "Leader
// leases", writes down the clock assumptions.

// MaxClockDrift bounds, as a fraction, how much faster or slower than
// real time any node's monotonic clock and ticker may run. A lease lasts
// the election timeout shortened by it twice (the leader's clock may run
// slow, a follower's ticker fast).
const MaxClockDrift = 0.05

// LeaseDuration is how long a lease lasts for replicas ticking every tick
// and electing after electionTicks: the election timeout minus two ticks
// (a follower's first tick after a heartbeat may come at once, and one
// more for the delivery of ticks), scaled down by MaxClockDrift. 0 when
// that leaves nothing.
func LeaseDuration(tick time.Duration, electionTicks int) time.Duration {
	if electionTicks <= 2 || tick <= 0 {
		return 0
	}
	d := float64(tick) * float64(electionTicks-2) * (1 - MaxClockDrift) / (1 + MaxClockDrift)
	return time.Duration(d)
}

// Leases is the lease policy of the replicas that share it (a store's):
// whether their leaders serve consistent reads from leases, and how long
// a lease lasts. Safe for concurrent use; its zero value serves none.
type Leases struct {
	enabled  atomic.Bool
	duration atomic.Int64 // nanoseconds
	// epoch moves with every change of duration: a lease granted before
	// it, under another duration, is void.
	epoch atomic.Uint64
}

// SetEnabled turns lease reads on or off (raft.lease-reads).
func (l *Leases) SetEnabled(on bool) { l.enabled.Store(on) }

// Enabled says whether leaders serve reads from leases.
func (l *Leases) Enabled() bool { return l.enabled.Load() }

// SetDuration sets the length of a lease (LeaseDuration of the ticks in
// force); the leases held are void from now on.
func (l *Leases) SetDuration(d time.Duration) {
	if time.Duration(l.duration.Swap(int64(d))) != d {
		l.epoch.Add(1)
	}
}

// Duration is the length of a lease.
func (l *Leases) Duration() time.Duration { return time.Duration(l.duration.Load()) }

// lease is a leader's lease (guarded by the replica's mu).
type lease struct {
	term    uint64
	epoch   uint64
	voters  []uint64  // the voters (both halves of a joint config) that acknowledged it
	expires time.Time // on the lease clock
	// renewing is the read request id of the renewal in flight, if any,
	// made at renewAt (one unanswered for a lease's length is given up).
	renewing string
	renewAt  time.Time
	// barred is the last term in which this replica began a leadership
	// transfer: no lease is valid in it.
	barred uint64
}

// LeaseRead reports whether this replica may serve a strongly consistent
// read from its applied state now, without a round trip: it leads, holds
// a valid lease, and has applied an entry of its term. When the lease has
// run past half its length, it also starts a renewal (a ReadIndex nobody
// waits for) and reports renew: the caller lets the store process the
// replica so that the renewal's heartbeats leave.
func (r *Replica) LeaseRead() (ok, renew bool) {
	l := r.cfg.Leases
	if l == nil || !l.Enabled() {
		return false, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.removed {
		return false, false
	}
	st := r.raw.BasicStatus()
	now := r.cfg.LeaseClock()
	if !r.leaseValid(st, now, l) {
		return false, false
	}
	stuck := r.lease.renewing != "" && now.Sub(r.lease.renewAt) > l.Duration()
	if (r.lease.renewing == "" || stuck) && r.lease.expires.Sub(now) < l.Duration()/2 {
		r.lease.renewing, r.lease.renewAt = r.startRead(nil), now
		renew = true
	}
	return true, renew
}

// leaseValid is LeaseRead's test; the caller holds mu.
func (r *Replica) leaseValid(st raft.BasicStatus, now time.Time, l *Leases) bool {
	ls := &r.lease
	return st.RaftState == raft.StateLeader && st.LeadTransferee == raft.None &&
		ls.term == st.Term && ls.barred != st.Term && ls.epoch == l.epoch.Load() &&
		r.appliedTerm == st.Term && r.sameVoters(ls.voters) &&
		now.Before(ls.expires)
}

// sameVoters says voters are leaseVoters(), without allocating.
func (r *Replica) sameVoters(voters []uint64) bool {
	in, out := r.st.conf.Voters, r.st.conf.VotersOutgoing
	return len(voters) == len(in)+len(out) && slices.Equal(voters[:len(in)], in) && slices.Equal(voters[len(in):], out)
}

// leaseVoters are the voters whose quorum a lease stands on: both
// halves of a joint configuration.
func (r *Replica) leaseVoters() []uint64 {
	return append(slices.Clone(r.st.conf.Voters), r.st.conf.VotersOutgoing...)
}

// grantLease extends the lease on a read request's acknowledgement by a
// quorum: sent is when the request was made, in term, with voters. The
// caller holds mu.
func (r *Replica) grantLease(w *readWaiter) {
	l := r.cfg.Leases
	if l == nil || w.sentAt.IsZero() {
		return
	}
	st := r.raw.BasicStatus()
	if st.RaftState != raft.StateLeader || st.Term != w.term || w.epoch != l.epoch.Load() ||
		r.lease.barred == st.Term || !r.sameVoters(w.voters) {
		return
	}
	expires := w.sentAt.Add(l.Duration())
	if r.lease.term != st.Term || r.lease.epoch != w.epoch || !slices.Equal(r.lease.voters, w.voters) {
		r.lease.term, r.lease.epoch, r.lease.voters, r.lease.expires = st.Term, w.epoch, w.voters, expires
		return
	}
	if expires.After(r.lease.expires) {
		r.lease.expires = expires
	}
}

// noteTransfers bars leases for the term once this leader sends a
// MsgTimeoutNow: its target campaigns at once, and the voters grant it
// their votes whatever they promised. Called under mu by Collect.
func (r *Replica) noteTransfers(msgs []raftpb.Message) {
	for _, m := range msgs {
		if m.Type == raftpb.MsgTimeoutNow {
			r.lease.barred = m.Term
			r.lease.expires = time.Time{}
		}
	}
}

// holdsVote says a (pre-)vote request must be dropped: this replica
// restarted less than Config.VoteHold ago, and before it did it may have
// acknowledged a leader's heartbeat, promising not to vote for another
// candidate for an election timeout, a promise raft forgets across a
// restart. A transfer's forced campaign is not held (its leader barred its
// own lease). The caller holds mu.
func (r *Replica) holdsVote(m raftpb.Message) bool {
	if r.voteHold.IsZero() || (m.Type != raftpb.MsgVote && m.Type != raftpb.MsgPreVote) {
		return false
	}
	if string(m.Context) == campaignTransfer {
		return false
	}
	if !r.cfg.LeaseClock().Before(r.voteHold) {
		r.voteHold = time.Time{}
		return false
	}
	return true
}

// campaignTransfer is the context raft gives a leadership transfer's
// (pre-)vote requests.
const campaignTransfer = "CampaignTransfer"
