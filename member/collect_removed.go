package member

import (
	"errors"
	"slices"
	"sync"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/partitadb/partita/cluster"
)

// Replica GC of removed replicas: a replica that applied its own removal
// from its partition holds data no configuration counts and serves
// nothing, and nothing else removes it when the step that should have (a
// Doctor's destroy, after its operation lost its lease or found its plan
// stale) never ran. The reconciler destroys it once it has seen it
// removed for removedGrace, and the directory no longer lists this node
// there (for a table partition; the meta partition's replicas are its
// configuration), and it has received nothing meanwhile. A removed
// replica receives nothing; one that appends entries is being added back
// (the step that adds a node, CreateReplica then AddLearner, keeps its
// old replica, which becomes a learner, then perhaps a voter, before it
// has applied the entry that lists it again), and must stay.
//
// A replica removed before it received its removal still counts itself a
// member; the group's other replicas no longer send to it, and it stays
// until its node's data directory goes. Telling it apart needs the
// partition's current configuration from its leader (what CockroachDB's
// replica GC asks the range descriptor for); that is not done yet.

// removedGrace is how long a replica must have been seen removed before
// the reconciler destroys it.
const removedGrace = 10 * time.Second

// removedReplicas remembers since when each replica of this node was
// seen removed from its own configuration, and its applied index then.
type removedReplicas struct {
	mu    sync.Mutex
	since map[uint64]removedSince
}

type removedSince struct {
	at   time.Time
	mark replicaMark
}

// replicaMark is what moves when a replica receives entries: its log (an
// append shows here before it is acknowledged), its term, its applied
// index.
type replicaMark struct{ entries, term, applied uint64 }

// collectRemoved destroys the replicas seen removed from their partition,
// and applying nothing, for removedGrace, and reports how many it
// destroyed.
func (m *Member) collectRemoved() (int, error) {
	now := m.cfg.Now()
	rr := &m.removed
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.since == nil {
		rr.since = make(map[uint64]removedSince)
	}
	removed := make(map[uint64]bool)
	var errs []error
	destroyed := 0
	for _, r := range m.cfg.Store.Replicas() {
		cs := r.ConfState()
		if len(cs.Voters) == 0 || memberOf(cs, m.cfg.Self) {
			continue // not initialised yet (a learner being added), or a member
		}
		id := r.Partition()
		removed[id] = true
		st := r.Stats()
		mark := replicaMark{entries: st.LogEntries, term: st.Term, applied: st.Applied}
		since, ok := rr.since[id]
		if !ok || since.mark != mark {
			rr.since[id] = removedSince{at: now, mark: mark}
			continue
		}
		if now.Sub(since.at) < removedGrace {
			continue
		}
		err := m.DestroyReplica(id)
		switch {
		case errors.Is(err, cluster.ErrStillListed):
			// The directory has not caught up with the removal: later.
		case err != nil:
			errs = append(errs, err)
		default:
			destroyed++
			delete(rr.since, id)
			m.cfg.Logger.Info("destroyed a replica removed from its partition", "partition", id,
				"voters", cs.Voters, "removed_for", now.Sub(since.at).Round(time.Second))
		}
	}
	for id := range rr.since {
		if !removed[id] {
			delete(rr.since, id)
		}
	}
	return destroyed, errors.Join(errs...)
}

// memberOf reports whether node is a voter or learner of cs, in either
// half of a joint configuration.
func memberOf(cs raftpb.ConfState, node uint64) bool {
	return slices.Contains(cs.Voters, node) || slices.Contains(cs.Learners, node) ||
		slices.Contains(cs.VotersOutgoing, node) || slices.Contains(cs.LearnersNext, node)
}
