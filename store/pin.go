package store

import (
	"context"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// PinnedState is a partition's replicated state at one applied index.
type PinnedState struct {
	// Snap holds the state; the caller closes it.
	Snap *engine.Snapshot
	// Applied is the index of the last entry the state reflects.
	Applied uint64
	// Desc is the partition's range in that state.
	Desc *partitapb.Descriptor
}

// pinRetry is how long PinState waits for a round's batch to commit
// before it looks again.
const pinRetry = time.Millisecond

// PinState returns this node's replica of partition as of one applied
// index, taken after a read barrier: it holds every write acknowledged
// before the call (the replica must lead), and nothing half applied.
func (s *Store) PinState(ctx context.Context, partition uint64) (PinnedState, error) {
	if err := s.ReadBarrier(ctx, partition); err != nil {
		return PinnedState{}, err
	}
	t := time.NewTicker(pinRetry)
	defer t.Stop()
	for {
		r := s.Replica(partition)
		if r == nil {
			return PinnedState{}, s.noReplica(partition)
		}
		if snap, applied, desc, ok := r.PinState(); ok {
			return PinnedState{Snap: snap, Applied: applied, Desc: desc}, nil
		}
		select {
		case <-ctx.Done():
			return PinnedState{}, ctx.Err()
		case <-t.C:
		}
	}
}
