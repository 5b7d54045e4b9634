package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/store"
)

// clusterHost creates and removes the replicas of a cluster node's new
// and deleted partitions for the router.
type clusterHost struct{ n *Node }

var _ router.Host = clusterHost{}

// CreatePartition bootstraps this node's replica when the placement lists
// it; the other replicas bootstrap theirs when their reconciler sees the
// partition in the directory.
func (cs clusterHost) CreatePartition(ctx context.Context, p *partitapb.Partition) error {
	cs.n.dir.SetReplicas(p.GetId(), p.GetReplicas())
	cs.n.bootMu.Lock()
	defer cs.n.bootMu.Unlock()
	return cs.n.bootstrapIfPlacedHere(p)
}

// DestroyPartition removes this node's replica; other nodes' replicas of a
// deleted table stay until a later issue's garbage collection.
func (cs clusterHost) DestroyPartition(ctx context.Context, partition uint64) error {
	return cs.n.store.Destroy(partition)
}

// bootstrapIfPlacedHere creates this node's replica of p if p's replicas
// include it and it has none yet.
func (n *Node) bootstrapIfPlacedHere(p *partitapb.Partition) error {
	if !slices.Contains(p.GetReplicas(), n.id) || n.store.Replica(p.GetId()) != nil {
		return nil
	}
	err := n.store.Bootstrap(p.GetId(), p.GetReplicas(), directory.Spans(p)...)
	if errors.Is(err, store.ErrDestroyed) {
		return nil // moved away from this node; the directory copy is stale
	}
	if err != nil && n.store.Replica(p.GetId()) == nil {
		return fmt.Errorf("node: bootstrap partition %d: %w", p.GetId(), err)
	}
	// The first replica listed campaigns at once: placement rotates the
	// lists, so a new table's leaders spread over the nodes.
	if p.GetReplicas()[0] == n.id {
		if err := n.store.Campaign(p.GetId()); err != nil {
			n.log.Debug("campaign after bootstrap", "partition", p.GetId(), "err", err)
		}
	}
	return nil
}

// metaRetryTimeout bounds proposeMeta's retries.
const metaRetryTimeout = 15 * time.Second

// proposeMeta proposes cmd to the meta partition wherever its leader is,
// retrying (same command id: applied at most once) while leadership moves.
func (n *Node) proposeMeta(ctx context.Context, cmd *partitapb.Command) (*partitapb.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, metaRetryTimeout)
	defer cancel()
	return n.sender.Propose(ctx, directory.MetaPartition, cmd)
}
