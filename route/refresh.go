package route

import (
	"context"
	"errors"
	"fmt"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/replica"
)

// ErrNoDirectorySource: no node is known to read the directory from.
var ErrNoDirectorySource = errors.New("route: no node to read the directory from")

// Source reads the directory from a meta replica.
type Source interface {
	// Local reads this node's own meta replica without a read barrier
	// (store.ErrNoReplica when it has none): a cache may lag a little.
	Local(ctx context.Context) (*directory.Snapshot, error)
	// Node reads node's meta replica after a read barrier.
	Node(ctx context.Context, node uint64) (*directory.Snapshot, error)
	// At reads the meta replica of the node listening at a peer address
	// (a join address, before any node id is known).
	At(ctx context.Context, addr string) (*directory.Snapshot, error)
}

// maxRefreshNodes bounds the nodes one Refresh asks.
const maxRefreshNodes = 8

// Refresh reloads the Sender's directory cache: from this node's meta
// replica when it has one, else from the meta leader (hinted) or voters,
// following not-leader hints, else from the seed addresses.
func (s *Sender) Refresh(ctx context.Context, src Source, hasLocal bool, seeds []string) error {
	dir := s.cfg.Directory
	if hasLocal {
		snap, err := src.Local(ctx)
		if err == nil {
			dir.Update(snap)
		}
		return err
	}
	var errs []error
	candidates := append([]uint64{dir.Leader(directory.MetaPartition)}, dir.MetaReplicas()...)
	for i := 0; i < len(candidates) && i < maxRefreshNodes; i++ {
		id := candidates[i]
		if id == 0 || id == s.cfg.Self {
			continue
		}
		snap, err := src.Node(ctx, id)
		if err == nil {
			dir.Update(snap)
			return nil
		}
		var nl *replica.NotLeaderError
		if errors.As(err, &nl) && nl.Leader != 0 {
			candidates = append(candidates, nl.Leader)
		}
		errs = append(errs, err)
	}
	for _, addr := range seeds {
		snap, err := src.At(ctx, addr)
		if err == nil {
			dir.Update(snap)
			return nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return ErrNoDirectorySource
	}
	return fmt.Errorf("route: refresh the directory: %w", errors.Join(errs...))
}
