package route

import (
	"context"
	"errors"
	"fmt"
	"slices"

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
// following not-leader hints, else from the other nodes the cache lists
// (any with a meta replica, a learner too, answers after a read
// barrier), else from the seed addresses. The other nodes matter when the
// meta voters moved: a meta voter restarted at a new address is
// unreachable at the one cached here, and the seeds may be that same old
// address (CI: a node outside the meta group asked node 1 at its old
// address for minutes while node 2 knew the new one).
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
	for _, n := range dir.Nodes() {
		candidates = append(candidates, n.GetId())
	}
	asked := map[uint64]bool{}
	for i := 0; i < len(candidates) && len(asked) < maxRefreshNodes; i++ {
		id := candidates[i]
		if id == 0 || id == s.cfg.Self || asked[id] {
			continue
		}
		asked[id] = true
		snap, err := src.Node(ctx, id)
		if err == nil {
			dir.Update(snap)
			return nil
		}
		var nl *replica.NotLeaderError
		if errors.As(err, &nl) && nl.Leader != 0 {
			candidates = slices.Insert(candidates, i+1, nl.Leader) // asked next
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
