package router

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/store"
)

// ReadChanges reads a page of a partition's change log wherever a replica
// of it is: this node's, else a peer's (the leader's when
// req.Consistent).
func (r *Router) ReadChanges(ctx context.Context, req store.ChangesRequest) (store.ChangesPage, error) {
	page, err := r.cfg.Sender.ReadChanges(ctx, req)
	if err != nil {
		return page, fmt.Errorf("router: change log of partition %d: %w", req.Partition, err)
	}
	return page, nil
}
