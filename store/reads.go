package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
)

// WalkRequest asks for a page of a partition's keys in [Lo, Hi).
type WalkRequest struct {
	Partition  uint64
	Lo, Hi     []byte
	Reverse    bool // from Hi down to Lo
	Consistent bool // after a read barrier (leader only)
	MaxItems   int  // 0: no limit
	MaxBytes   int  // keys and values; 0: no limit; at least one item is returned
}

// WalkResult is a page of keys and values in walk order. More says a limit
// stopped the page before the end of the range.
type WalkResult struct {
	Keys, Values [][]byte
	More         bool
}

// Get returns the value under key in this node's replica of partition (nil
// when absent). A consistent read first waits for the read barrier, so it
// sees every write committed before the call; it needs the leader.
func (s *Store) Get(ctx context.Context, partition uint64, key []byte, consistent bool) (v []byte, err error) {
	start := time.Now()
	defer func() { s.countRead(partition, len(v), err, time.Since(start)) }()
	if err := s.readyToRead(ctx, partition, consistent); err != nil {
		return nil, err
	}
	if err := s.fenceRead(partition, key, nil, consistent); err != nil {
		return nil, err
	}
	ticket, err := s.admitRead(partition, key)
	if err != nil {
		return nil, err
	}
	r := s.Replica(partition)
	if r == nil {
		return nil, s.noReplica(partition)
	}
	if err := s.checkIntent(r, key); err != nil {
		return nil, err
	}
	v, err = s.cfg.Engine.Get(key)
	chargeRead(ticket, len(v), consistent)
	if err := s.StillHosted(partition, r); err != nil {
		return nil, err
	}
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

// StillHosted fails a read of partition's data from the engine that
// began while r was its replica here (r nil: there was none) if r is not
// any more: destroyed meanwhile, its data may have been cleared under the
// read (replica_gc.go), which must not pass for a state the partition
// had. The caller takes r (Replica) before the read and asks after it.
func (s *Store) StillHosted(partition uint64, r *replica.Replica) error {
	if r == nil {
		return s.noReplica(partition)
	}
	if s.Replica(partition) != r {
		return s.noReplica(partition)
	}
	return nil
}

// Walk returns a page of this node's replica of partition in [Lo, Hi).
func (s *Store) Walk(ctx context.Context, req WalkRequest) (res WalkResult, err error) {
	start, size := time.Now(), 0
	defer func() { s.countRead(req.Partition, size, err, time.Since(start)) }()
	if err := s.readyToRead(ctx, req.Partition, req.Consistent); err != nil {
		return WalkResult{}, err
	}
	if err := s.fenceRead(req.Partition, req.Lo, req.Hi, req.Consistent); err != nil {
		return WalkResult{}, err
	}
	ticket, err := s.admitRead(req.Partition, req.Lo)
	if err != nil {
		return WalkResult{}, err
	}
	r := s.Replica(req.Partition)
	if r == nil {
		return WalkResult{}, s.noReplica(req.Partition)
	}
	it, err := s.cfg.Engine.NewIter(req.Lo, req.Hi)
	if err != nil {
		return WalkResult{}, err
	}
	defer it.Close()
	step, ok := it.Next, it.First()
	if req.Reverse {
		step, ok = it.Prev, it.Last()
	}
	itemBytes := 0
	for ; ok; ok = step() {
		if (req.MaxItems > 0 && len(res.Keys) >= req.MaxItems) || (req.MaxBytes > 0 && size >= req.MaxBytes) {
			res.More = true
			break
		}
		k, v := append([]byte(nil), it.Key()...), append([]byte(nil), it.Value()...)
		res.Keys, res.Values = append(res.Keys, k), append(res.Values, v)
		size += len(k) + len(v)
		itemBytes += len(v)
	}
	// A page costs what its items weigh together, as a Query or Scan page does.
	chargeRead(ticket, itemBytes, req.Consistent)
	if err := it.Error(); err != nil {
		return WalkResult{}, fmt.Errorf("store: walk partition %d: %w", req.Partition, err)
	}
	if err := s.StillHosted(req.Partition, r); err != nil {
		return WalkResult{}, err
	}
	return res, nil
}

func (s *Store) readyToRead(ctx context.Context, partition uint64, consistent bool) error {
	if consistent {
		return s.ReadBarrier(ctx, partition)
	}
	if s.Replica(partition) == nil {
		return s.noReplica(partition)
	}
	return ctx.Err()
}

// checkIntent refuses with TXN_CONFLICT the read of an item that holds a
// transaction's intent: its committed value may be the intent's, not the
// stored one (the router waits for the transaction, or recovers it). The
// intent is read before the item: an intent written after this check is
// of a transaction that prepared after the read began, which the read
// may then precede.
//
// A partition that holds no intent at all (most of them, most of the
// time) skips the lookup, a point read through every level of the LSM
// for a key that is not there.
func (s *Store) checkIntent(r *replica.Replica, key []byte) error {
	if _, ok := engine.KeyHash(key); !ok {
		return nil
	}
	if holds, err := r.HoldsIntents(); err == nil && !holds {
		return nil
	}
	partition := r.Partition()
	_, err := s.cfg.Engine.Get(fsm.TxnIntentKey(partition, key))
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("store: partition %d: read intent: %w", partition, err)
	}
	return partitapb.Errorf(partitapb.Error_TXN_CONFLICT, "Transaction is ongoing for the item")
}
