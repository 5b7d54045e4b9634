package member

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// Reconcile refreshes the directory, creates the replicas placed here,
// removes those of deleted tables and those removed from their
// partition, records the splits their coordinator left unrecorded,
// finishes or aborts its abandoned merges, heartbeats this node's record,
// and grows the meta partition. It is the body of the node's "directory"
// job.
func (m *Member) Reconcile(ctx context.Context) error {
	if err := m.Refresh(ctx); err != nil {
		return err
	}
	var errs []error
	parts := m.dir.Snapshot().Partitions()
	for _, p := range parts {
		m.bootMu.Lock()
		errs = append(errs, m.bootstrapIfPlacedHere(p))
		m.bootMu.Unlock()
	}
	_, removedErr := m.collectRemoved(ctx)
	errs = append(errs, m.collectDeleted(parts), removedErr)
	errs = append(errs, m.finishSplits(ctx), m.finishMerges(ctx), m.heartbeat(ctx), m.growMeta(ctx))
	return errors.Join(errs...)
}

// heartbeat updates this node's directory record when its heartbeat is
// due or its addresses differ from the ones listed (first start, restart
// elsewhere).
func (m *Member) heartbeat(ctx context.Context) error {
	want := m.record.Load()
	if want == nil {
		return nil // not serving yet: next cycle
	}
	if rec := m.dir.Snapshot().Node(m.cfg.Self); rec != nil && sameAddresses(rec, want) &&
		m.cfg.Now().Sub(time.Unix(0, rec.GetHeartbeatUnixNanos())) < directory.HeartbeatInterval {
		return nil
	}
	cmd := &partitapb.Command{Id: m.cfg.NewID(), UnixNanos: m.cfg.Now().UnixNano(),
		Op: &partitapb.Command_PutNode{PutNode: &partitapb.PutNode{Node: want}}}
	res, err := m.cfg.Sender.Propose(ctx, directory.MetaPartition, cmd)
	if err != nil {
		return err
	}
	if res.GetError() != nil {
		return res.GetError()
	}
	if n := res.GetNode(); n != nil { // nil: a retry answered by its record; the next refresh reads it
		m.dir.AddNode(n)
	}
	return nil
}

func sameAddresses(a, b *partitapb.Node) bool {
	return a.GetPeerAddr() == b.GetPeerAddr() && a.GetApiAddr() == b.GetApiAddr() &&
		a.GetAdminAddr() == b.GetAdminAddr() && a.GetZone() == b.GetZone() && a.GetWriteFormat() == b.GetWriteFormat() &&
		a.GetStoppedUnixNanos() == b.GetStoppedUnixNanos() && a.GetStartedUnixNanos() == b.GetStartedUnixNanos()
}

// metaVoters is the size the meta partition grows to, whatever the
// cluster's replication factor; the Doctor's checkers remove none below
// it (checker.MetaVoters).
const metaVoters = 3

// growMeta adds a voter to the meta partition, on its leader, while it has
// fewer than three and more live nodes exist, zone by zone.
//
// Growing the meta partition is growMeta's alone: the Doctor's
// replica-count checker leaves an under-replicated meta partition to it
// (the directory must reach three voters as soon as three nodes exist,
// whether or not a Doctor runs or has a complete view yet), and replaces
// or removes meta voters as any partition's. The two once both added
// meta voters and raced: one's AddLearner arriving after the other's
// promotion demoted the new voter, and each refused the other's
// half-done step. A learner present is a change in progress: growMeta
// promotes it only when no Doctor is active (its own, left by a cycle
// whose promotion did not finish); an active Doctor's membership checker
// rolls its own, and growMeta's, forward or back.
func (m *Member) growMeta(ctx context.Context) error {
	st := m.cfg.Store
	r := st.Replica(directory.MetaPartition)
	if r == nil || r.Leader() != m.cfg.Self || m.cfg.Client == nil {
		return nil
	}
	cs := r.ConfState()
	voters := cs.Voters
	if len(voters) >= metaVoters {
		return nil
	}
	alive := func(rec *partitapb.Node) bool {
		return rec.GetPeerAddr() != "" && directory.NodeLiveness(rec, m.cfg.Now()) == directory.Alive
	}
	if len(cs.Learners) > 0 {
		if directory.LeaseHeld(m.dir.Snapshot().DoctorLease, m.cfg.Now()) {
			return nil
		}
		for _, id := range cs.Learners {
			if rec := m.dir.Snapshot().Node(id); rec != nil && alive(rec) && !directory.Decommissioning(rec) {
				return st.PromoteLearner(ctx, directory.MetaPartition, id)
			}
		}
	}
	var errs []error
	for _, rec := range metaCandidates(m.dir.Snapshot(), voters) {
		id := rec.GetId()
		if slices.Contains(cs.Learners, id) || !alive(rec) {
			continue
		}
		if err := m.cfg.Client.CreateReplica(ctx, id, directory.MetaPartition); err != nil {
			errs = append(errs, fmt.Errorf("member: grow meta to node %d: %w", id, err))
			continue // unreachable: try the next node
		}
		if err := st.AddLearner(ctx, directory.MetaPartition, id); err != nil {
			return err
		}
		return st.PromoteLearner(ctx, directory.MetaPartition, id)
	}
	return errors.Join(errs...)
}

// metaCandidates are the nodes that may take a meta voter, those in a
// zone no voter uses first (by id within each group), so that the meta
// partition spreads over zones as table partitions do. A decommissioning
// node takes none.
func metaCandidates(snap *directory.Snapshot, voters []uint64) []*partitapb.Node {
	used := map[string]bool{}
	for _, v := range voters {
		if rec := snap.Node(v); rec != nil {
			used[rec.GetZone()] = true
		}
	}
	var out []*partitapb.Node
	for _, rec := range snap.Nodes {
		if !slices.Contains(voters, rec.GetId()) && !directory.Decommissioning(rec) {
			out = append(out, rec)
		}
	}
	slices.SortFunc(out, func(a, b *partitapb.Node) int {
		return cmp.Or(cmp.Compare(boolInt(used[a.GetZone()]), boolInt(used[b.GetZone()])), cmp.Compare(a.GetId(), b.GetId()))
	})
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// collectDeleted destroys the local replicas of deleted tables' partitions.
// A partition missing from the directory is known deleted (not merely too
// new for this copy of it) when the directory lists a partition with a
// higher id: ids are assigned in the meta log's order, and its range is
// not part of a table the directory lists (the right half of a split not
// recorded yet). The table's data went with DestroyRange through the
// partition's own log where that ran first; the destruction removes the
// raft state left on nodes other than the one that deleted the table, and
// the items of a replica destroyed before its DestroyRange applied (behind
// its leader, or collected before the deleting router proposed it:
// store.Destroy clears its spans).
func (m *Member) collectDeleted(parts []*partitapb.Partition) error {
	listed := make(map[uint64]bool, len(parts))
	var maxID uint64
	for _, p := range parts {
		listed[p.GetId()] = true
		maxID = max(maxID, p.GetId())
	}
	tables := listedTables(m.dir.Snapshot())
	var errs []error
	for _, r := range m.cfg.Store.Replicas() {
		id := r.Partition()
		if id == directory.MetaPartition || listed[id] || id >= maxID || ofListedTable(r.Descriptor(), tables) {
			continue
		}
		m.cfg.Logger.Info("removing the replica of a deleted table's partition", "partition", id)
		errs = append(errs, m.cfg.Store.Destroy(id))
	}
	return errors.Join(errs...)
}
