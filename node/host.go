package node

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/store"
)

// localHost places every partition on this node alone: the router's view of
// a one-node store.
type localHost struct {
	*store.Store
	nodeID uint64
}

var _ router.Host = localHost{}

// CreatePartition bootstraps the partition as a one-voter group here; a
// partition that already has its replica is left as it is.
func (h localHost) CreatePartition(ctx context.Context, p *partitapb.Partition) error {
	if h.Replica(p.GetId()) != nil {
		return nil
	}
	spans := directory.Spans(p)
	if p.GetId() == directory.MetaPartition {
		spans = directory.MetaSpans()
	}
	if err := h.Bootstrap(p.GetId(), []uint64{h.nodeID}, spans...); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	return nil
}

// DestroyPartition removes the partition's replica.
func (h localHost) DestroyPartition(ctx context.Context, partition uint64) error {
	return h.Destroy(partition)
}
