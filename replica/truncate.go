package replica

import (
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/tracker"

	"github.com/partitadb/partita/engine"
)

// maybeTruncate trims the log behind the slowest live follower, and at
// most MaxLogEntries / MaxLogBytes behind the last entry whatever the
// followers need. A follower that then lacks entries gets a snapshot.
// Followers keep the same window behind their applied index, so a new
// leader can still catch up followers that were close.
//
// Trimming stops at the applied index as of the previous round, whose
// applies were committed (perhaps without sync) in a batch that precedes b
// in the WAL: when b is synced, so is everything before it, so a crash
// never leaves the log trimmed past what the state machine durably holds.
func (r *Replica) maybeTruncate(b *engine.Batch) error {
	target := r.truncateTarget()
	if target <= r.st.truncIdx || target-r.st.truncIdx < r.cfg.TruncateStep {
		return nil
	}
	return r.st.truncate(b, target)
}

func (r *Replica) truncateTarget() uint64 {
	last, applied := r.st.lastIdx, r.applied
	target := applied
	if r.raw.BasicStatus().RaftState == raft.StateLeader {
		r.raw.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker.Progress) {
			if id != r.cfg.ID && pr.RecentActive && pr.Match < target {
				target = pr.Match
			}
		})
	} else if target > r.cfg.TruncateStep {
		target -= r.cfg.TruncateStep
	}
	// Bounds: keep at most MaxLogEntries entries and about MaxLogBytes.
	if last > r.cfg.MaxLogEntries && target < last-r.cfg.MaxLogEntries {
		target = last - r.cfg.MaxLogEntries
	}
	if n := last - r.st.truncIdx; n > 0 && r.st.logBytes > r.cfg.MaxLogBytes {
		keep := n * r.cfg.MaxLogBytes / r.st.logBytes // entries that fit the byte bound
		if last-keep > target {
			target = last - keep
		}
	}
	return min(target, applied)
}
