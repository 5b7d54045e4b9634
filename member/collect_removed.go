package member

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/replica"
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
// A replica removed before it received its removal (an orphan) still
// counts itself a member; the group's other replicas no longer send to
// it. It is a candidate when the directory lists its partition without
// this node and it knows no leader; seen so, receiving nothing, for the
// orphan grace (a minute), the reconciler asks the nodes the directory
// lists which of them leads the partition, and destroys the replica only
// when that leader's configuration, at the replica's term or later, no
// longer has this node (what CockroachDB's replica GC asks the range
// descriptor for).

// removedGrace is how long a replica must have been seen removed before
// the reconciler destroys it.
const removedGrace = 10 * time.Second

// removedReplicas remembers since when each replica of this node was
// seen removed (or possibly orphaned), and what it had received then.
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
// and receiving nothing, for removedGrace, and those that count
// themselves members but were removed without learning it (orphans, see
// mayBeOrphan) for the orphan grace; it reports how many it destroyed.
func (m *Member) collectRemoved(ctx context.Context) (int, error) {
	now := m.cfg.Now()
	rr := &m.removed
	rr.mu.Lock()
	defer rr.mu.Unlock()
	removed := make(map[uint64]bool)
	var errs []error
	destroyed := 0
	for _, r := range m.cfg.Store.Replicas() {
		cs := r.ConfState()
		if len(cs.Voters) == 0 {
			continue // not initialised yet (a learner being added)
		}
		id := r.Partition()
		st := r.Stats()
		grace, orphan := removedGrace, false
		if r.Listed() {
			if !m.mayBeOrphan(id, st) {
				continue
			}
			grace, orphan = m.orphanGrace(), true
		}
		removed[id] = true
		mark := replicaMark{entries: st.LogEntries, term: st.Term, applied: st.Applied}
		since, ok := rr.since[id]
		if !ok || since.mark != mark {
			rr.since[id] = removedSince{at: now, mark: mark}
			continue
		}
		if now.Sub(since.at) < grace {
			continue
		}
		if orphan && !m.leaderDropped(ctx, id, st.Term) {
			// Asked again after another grace, not at every cycle: the
			// nodes asked may be slow or down.
			rr.since[id] = removedSince{at: now, mark: mark}
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
			m.cfg.Logger.Info("destroyed a replica removed from its partition", "partition", id, "voters", cs.Voters,
				"learned_its_removal", !orphan, "idle_for", now.Sub(since.at).Round(time.Second))
		}
	}
	for id := range rr.since {
		if !removed[id] {
			delete(rr.since, id)
		}
	}
	return destroyed, errors.Join(errs...)
}

// mayBeOrphan says a replica that counts itself a member of table
// partition id may have been removed without learning it: the directory
// lists the partition, without this node, and the replica knows no
// leader (the group's leader no longer sends to it).
func (m *Member) mayBeOrphan(id uint64, st replica.Stats) bool {
	if id == directory.MetaPartition || st.Lead != 0 || m.cfg.Client == nil {
		return false
	}
	listed := m.dir.Replicas(id)
	return len(listed) > 0 && !slices.Contains(listed, m.cfg.Self)
}

// orphanGrace is how long a possible orphan must have been seen so
// before its leader is asked.
func (m *Member) orphanGrace() time.Duration {
	if m.cfg.OrphanGrace > 0 {
		return m.cfg.OrphanGrace
	}
	return defaultOrphanGrace
}

// defaultOrphanGrace is Config.OrphanGrace's default.
const defaultOrphanGrace = time.Minute

// leaderDropped asks the nodes the directory lists for partition id
// which of them leads it, and says whether that leader, at term or
// later, has a configuration without this node. No answer, or no leader
// among them: it cannot tell, and says no.
func (m *Member) leaderDropped(ctx context.Context, id, term uint64) bool {
	for _, node := range m.dir.Replicas(id) {
		if node == m.cfg.Self {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, leaderAskTimeout)
		ls, err := m.cfg.Client.ReplicaStatus(cctx, node)
		cancel()
		if err != nil {
			continue
		}
		r, ok := ls.Replica(id)
		if !ok || !r.Leader || r.Term < term {
			continue
		}
		return !slices.Contains(r.Voters, m.cfg.Self) && !slices.Contains(r.Learners, m.cfg.Self)
	}
	return false
}

// leaderAskTimeout bounds each ReplicaStatus call of leaderDropped.
const leaderAskTimeout = 2 * time.Second
