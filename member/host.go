package member

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/store"
)

// Host is the router's Host on a node of a cluster.
func (m *Member) Host() router.Host { return host{m} }

type host struct{ m *Member }

// CreatePartition bootstraps this node's replica when the placement lists
// it; the other replicas bootstrap theirs when their reconciler sees the
// partition in the directory.
func (h host) CreatePartition(ctx context.Context, p *partitapb.Partition) error {
	h.m.dir.SetReplicas(p.GetId(), p.GetReplicas())
	h.m.bootMu.Lock()
	defer h.m.bootMu.Unlock()
	return h.m.bootstrapIfPlacedHere(p)
}

// DestroyPartition removes this node's replica; other nodes' replicas of a
// deleted table go when their reconciler finds the partition deleted.
func (h host) DestroyPartition(ctx context.Context, partition uint64) error {
	return h.m.cfg.Store.Destroy(partition)
}

// bootstrapIfPlacedHere creates this node's replica of p if p's replicas
// include it and it has none yet. The caller holds bootMu.
func (m *Member) bootstrapIfPlacedHere(p *partitapb.Partition) error {
	st := m.cfg.Store
	if !slices.Contains(p.GetReplicas(), m.cfg.Self) || st.Replica(p.GetId()) != nil {
		return nil
	}
	if bornOfSplit(p) {
		return m.addSplitReplica(p)
	}
	err := st.Bootstrap(p.GetId(), p.GetReplicas(), directory.Spans(p)...)
	if errors.Is(err, store.ErrDestroyed) {
		return nil // moved away from this node; the directory copy is stale
	}
	if err != nil && st.Replica(p.GetId()) == nil {
		return fmt.Errorf("member: bootstrap partition %d: %w", p.GetId(), err)
	}
	// The first replica listed campaigns at once: placement rotates the
	// lists, so a new table's leaders spread over the nodes.
	if p.GetReplicas()[0] == m.cfg.Self {
		if err := st.Campaign(p.GetId()); err != nil {
			m.cfg.Logger.Debug("campaign after bootstrap", "partition", p.GetId(), "err", err)
		}
	}
	return nil
}

// DestroyReplica removes this node's replica of a partition moved away
// (nothing to do when there is none). For a table partition, the
// directory must no longer list this node (cluster.ErrStillListed); for
// the meta partition, the caller has seen the removal committed. The
// partition's data on this node goes with its raft state, except what
// another replica here owns (store.Destroy).
func (m *Member) DestroyReplica(partition uint64) error {
	m.bootMu.Lock()
	defer m.bootMu.Unlock()
	if partition != directory.MetaPartition && slices.Contains(m.dir.Replicas(partition), m.cfg.Self) {
		return fmt.Errorf("node %d: partition %d: %w", m.cfg.Self, partition, cluster.ErrStillListed)
	}
	if m.cfg.Store.Replica(partition) == nil {
		return nil
	}
	if err := m.cfg.Store.Destroy(partition); err != nil {
		return err
	}
	m.cfg.Logger.Info("destroyed a replica moved away", "partition", partition)
	return nil
}
