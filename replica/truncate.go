package replica

import (
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/tracker"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
)

// maybeTruncate trims the log. What it keeps, in order of precedence:
//
//  1. The byte bound: never more than about MaxLogBytes, whatever anyone
//     needs. A follower that then lacks entries gets a snapshot.
//  2. Hard holds, on the leader, for recently active followers only: a
//     follower being sent a snapshot at index S keeps the log from S (so
//     that once it installs the snapshot it follows the log, instead of
//     needing a second one); a follower that has not yet appended the
//     partition's last split keeps the log from its match (so that it
//     applies the split from its log, not from a snapshot of the halves);
//     a follower being probed whose match is unknown (below the log's
//     start) stops trimming until the probe settles.
//  3. The entry bound: at most MaxLogEntries entries otherwise.
//  4. Soft holds: the leader keeps what its recently active followers have
//     not acknowledged; followers keep TruncateStep entries behind their
//     applied index, so a new leader can still catch up followers that
//     were close.
//
// A follower that is not recently active (down, partitioned, paused)
// holds nothing: it gets a snapshot when it returns, and the Doctor
// replaces a replica that stays dead. One exception, also a hard hold: a
// new group (a split's right half) keeps its log whole, for NewGroupGrace,
// for the followers it has not heard from yet: their nodes create their
// replica when they apply the split, and then follow the log from its
// first index.
//
// Trimming stops at the applied index as of the previous round, whose
// applies were committed (perhaps without sync) in a batch that precedes b
// in the WAL: when b is synced, so is everything before it, so a crash
// never leaves the log trimmed past what the state machine durably holds.
func (r *Replica) maybeTruncate(b *engine.Batch) error {
	target := r.truncateTarget()
	if target <= r.st.truncIdx {
		return nil
	}
	if target-r.st.truncIdx < r.cfg.TruncateStep && r.st.logBytes <= r.maxLogBytes() {
		return nil
	}
	return r.st.truncate(b, target)
}

// truncateTarget returns the index up to which the log may be trimmed.
func (r *Replica) truncateTarget() uint64 {
	last, applied := r.st.lastIdx, r.applied
	soft, hard := applied, applied
	if r.raw.BasicStatus().RaftState == raft.StateLeader {
		soft, hard = r.followerHolds(applied)
	} else if soft > r.cfg.TruncateStep {
		soft -= r.cfg.TruncateStep
	}
	target := soft
	if maxEntries := r.maxLogEntries(); last > maxEntries && target < last-maxEntries {
		target = min(last-maxEntries, hard)
	}
	if n, maxBytes := last-r.st.truncIdx, r.maxLogBytes(); n > 0 && r.st.logBytes > maxBytes {
		keep := n * maxBytes / r.st.logBytes // entries that fit the byte bound
		if last-keep > target {
			target = last - keep
		}
	}
	return min(target, applied)
}

// followerHolds returns, on the leader, the highest index the log may be
// trimmed to without taking from a recently active follower what it has
// not acknowledged (soft), and without making a follower that is being
// sent a snapshot, or has not appended the last split, need a snapshot
// (hard). Both are at most applied.
func (r *Replica) followerHolds(applied uint64) (soft, hard uint64) {
	soft, hard = applied, applied
	r.raw.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker.Progress) {
		if id == r.cfg.ID {
			return
		}
		if !r.recentlyActive(id, pr) {
			if r.awaitsNewFollower(id) {
				soft, hard = min(soft, initialIndex), min(hard, initialIndex)
			}
			return
		}
		need := pr.Match
		snapshotting := pr.State == tracker.StateSnapshot
		if snapshotting {
			need = max(need, pr.PendingSnapshot)
		}
		soft = min(soft, need)
		switch {
		case pr.State == tracker.StateProbe && pr.Match < r.st.truncIdx:
			// Where its log ends is unknown: raft learns a match only from
			// an accepted append. A follower a new leader has not yet
			// probed, or the replica a split just created on a slow node
			// (which answered, but not yet an append), may hold everything
			// from truncIdx on. Trim no further until the probe settles,
			// within a round trip or two.
			hard = min(hard, r.st.truncIdx)
		case need >= r.st.truncIdx && (snapshotting || pr.Match < r.splitIdx):
			// A hold is kept only while the log still has what it holds
			// for: a follower it was trimmed past needs a snapshot anyway.
			hard = min(hard, need)
		}
	})
	return soft, hard
}

// recentlyActive says the leader heard from follower id within the last
// election timeout. Raft's RecentActive alone will not do: CheckQuorum
// clears it for every follower at each election timeout, and a trim in
// the moment before the next heartbeat responses would hold for no one.
func (r *Replica) recentlyActive(id uint64, pr tracker.Progress) bool {
	at, ok := r.heardTick[id]
	return pr.RecentActive || (ok && r.ticks-at <= uint64(r.cfg.ElectionTicks))
}

// awaitsNewFollower says the log, never trimmed, of a group born of a
// split (its range generation is past the first) is kept whole for
// follower id: not heard from since this replica opened, within
// NewGroupGrace of that. The replica on id's node is created when that
// node applies the split, at the group's first index.
func (r *Replica) awaitsNewFollower(id uint64) bool {
	if r.desc.GetGeneration() <= fsm.FirstRangeGeneration || r.st.truncIdx > initialIndex ||
		r.cfg.Now().Sub(r.opened) >= r.cfg.NewGroupGrace {
		return false
	}
	_, heard := r.contact[id]
	return !heard
}

// suffixSplitIndex is the key, local to this replica, of the log index at
// which it last applied a split: what the leader keeps the log for while a
// live follower has not caught up to it.
const suffixSplitIndex = "sp"

func readSplitIndex(r engine.Reader, partition uint64) (uint64, error) {
	raw, err := engine.Get(r, engine.LocalKey(partition, suffixSplitIndex))
	if errors.Is(err, engine.ErrNotFound) {
		return 0, nil
	}
	if err != nil || len(raw) != 8 {
		return 0, fmt.Errorf("replica: read split index of %d: %w", partition, err)
	}
	return binary.BigEndian.Uint64(raw), nil
}

// noteSplit records, in b and in memory, that the split at index applied.
func (r *Replica) noteSplit(b *engine.Batch, index uint64) error {
	r.splitIdx = index
	if err := b.Set(engine.LocalKey(r.cfg.Partition, suffixSplitIndex), binary.BigEndian.AppendUint64(nil, index)); err != nil {
		return fmt.Errorf("replica: write split index: %w", err)
	}
	return nil
}

// SplitReady says, on the leader, that the followers that matter have
// caught up on the group's birth and on its last split: each recently
// active voter (or, in a new group, each voter it still waits for) has
// appended the last split, and has its replica of a group born of one. A
// split proposed before then would leave a slow follower two splits
// behind, with the logs it needs for them kept only within the byte
// bound. A replica that does not lead says yes: its proposal fails anyway.
func (r *Replica) SplitReady() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.raw.BasicStatus().RaftState != raft.StateLeader {
		return true
	}
	need := max(r.splitIdx, initialIndex)
	ready := true
	r.raw.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker.Progress) {
		if id == r.cfg.ID || pr.IsLearner || pr.Match >= need {
			return
		}
		if r.recentlyActive(id, pr) || r.awaitsNewFollower(id) {
			ready = false
		}
	})
	return ready
}
