package replica

import (
	"cmp"
	"slices"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"
)

// TopologyStatus is what a topology snapshot says of a replica, read under
// one lock from what the replica already holds (no I/O).
type TopologyStatus struct {
	State                raft.StateType
	Learner              bool // this replica is a learner of its group
	Term, Lead           uint64
	Commit, Applied      uint64
	LogEntries, LogBytes uint64
	PendingSnapshot      bool // one is staged here, or being sent to a follower
	Voters, Learners     []uint64
	Generation           uint64 // of the range the replica applied (its descriptor's)
	Followers            []FollowerStatus
	LeaderChanges        uint64
}

// FollowerStatus is a leader's view of one other member of the group.
type FollowerStatus struct {
	Node    uint64
	Match   uint64
	Learner bool
	// RecentActive: raft heard from it within the last election timeout.
	RecentActive bool
	// LastContact is when this leader last received a response from it,
	// or when this replica became leader, whichever is later: a leader's
	// clock on a follower starts with its leadership (answers to an
	// earlier term of its are no evidence against a follower it has not
	// yet had time to hear from). A follower on a dead node is out of
	// contact once the contact timeout has passed since then, never in
	// contact for good.
	LastContact time.Time
	// Heard: the follower has answered this replica since it opened.
	Heard bool
	// Snapshot: the follower is being sent a snapshot.
	Snapshot bool
	// AckLatency is the moving average of the time from this leader's
	// append of an entry to the follower's acknowledgement of it; 0 when
	// the follower has acknowledged nothing this leader appended.
	AckLatency time.Duration
}

// TopologyStatus returns the replica's status for topology snapshots.
func (r *Replica) TopologyStatus() TopologyStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.raw.BasicStatus()
	ts := TopologyStatus{
		State: st.RaftState, Term: st.Term, Lead: st.Lead, Commit: st.Commit, Applied: r.applied,
		LogEntries: r.st.lastIdx - r.st.truncIdx, LogBytes: r.st.logBytes,
		PendingSnapshot: r.staged != nil || len(r.outgoing) > 0,
		Voters:          slices.Clone(r.st.conf.Voters), Learners: slices.Clone(r.st.conf.Learners),
		Generation: r.desc.GetGeneration(), LeaderChanges: r.leaderChanges,
	}
	ts.Learner = slices.Contains(ts.Learners, r.cfg.ID)
	if st.RaftState != raft.StateLeader {
		return ts
	}
	r.raw.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker.Progress) {
		if id == r.cfg.ID {
			return
		}
		snap := pr.State == tracker.StateSnapshot
		contact, heard := r.contact[id]
		if !heard {
			contact = r.opened
		}
		contact = later(contact, r.leadSince)
		ts.PendingSnapshot = ts.PendingSnapshot || snap
		ts.Followers = append(ts.Followers, FollowerStatus{Node: id, Match: pr.Match, Learner: pr.IsLearner,
			RecentActive: pr.RecentActive, LastContact: contact, Heard: heard, Snapshot: snap,
			AckLatency: r.acks.latency(id)})
	})
	slices.SortFunc(ts.Followers, func(a, b FollowerStatus) int { return cmp.Compare(a.Node, b.Node) })
	return ts
}

// noteContact records when a peer last answered this replica (called
// under mu by Step): the time since last contact of a leader's followers.
func (r *Replica) noteContact(m raftpb.Message) {
	switch m.Type {
	case raftpb.MsgAppResp, raftpb.MsgHeartbeatResp, raftpb.MsgSnapStatus:
	default:
		return
	}
	if r.contact == nil {
		r.contact, r.heardTick = make(map[uint64]time.Time), make(map[uint64]uint64)
	}
	r.heardTick[m.From] = r.ticks
	now := r.cfg.Now()
	r.contact[m.From] = now
	if m.Type == raftpb.MsgAppResp && !m.Reject && r.lead == r.cfg.ID {
		r.acks.acked(m.From, m.Index, now)
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
