package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/store"
)

// clusterStore is the router's store on a node of a cluster: each request
// goes to the node that leads the partition (or, for an eventually
// consistent read, to a replica, this node's first), here or over RPC,
// following the leader hints that come back.
type clusterStore struct{ n *Node }

var _ router.Store = clusterStore{}

// maxHops bounds the leader hints one attempt follows; the router retries
// the attempt with backoff after that.
const maxHops = 3

// hopTimeout bounds one remote call, so that a node that accepts
// connections but does not answer (paused, overloaded) costs one hop, not
// the whole request. A proposal cut short this way may still apply; the
// router's retry carries the same command id.
const hopTimeout = 3 * time.Second

// errSlowNode marks a remote call cut short by hopTimeout.
var errSlowNode = errors.New("node: peer did not answer in time")

// call runs op against the node believed to lead partition, following
// not-leader hints, and learns the leader from the outcome.
func (cs clusterStore) call(ctx context.Context, partition uint64, leaderOnly bool, op func(ctx context.Context, node uint64) error) error {
	target := cs.target(partition, leaderOnly)
	var err error
	for hop := 0; hop < maxHops; hop++ {
		if target == 0 {
			return &replica.NotLeaderError{Partition: partition}
		}
		err = cs.hop(ctx, target, op)
		var nl *replica.NotLeaderError
		switch {
		case err == nil:
			if leaderOnly {
				cs.n.dir.SetLeader(partition, target)
			}
			return nil
		case errors.As(err, &nl) && nl.Leader != 0 && nl.Leader != target:
			cs.n.dir.SetLeader(partition, nl.Leader)
			target = nl.Leader
		case unavailable(err) || errors.As(err, &nl):
			cs.n.dir.SetLeader(partition, 0)
			target = cs.other(partition, target)
		default:
			return err
		}
	}
	if unavailable(err) {
		// Retryable for the router: the leader may be elected, the
		// replica created, the node back, by the next attempt.
		return fmt.Errorf("%w (%w)", &replica.NotLeaderError{Partition: partition}, err)
	}
	return err
}

// hop runs op against node, bounded by hopTimeout when node is remote.
func (cs clusterStore) hop(ctx context.Context, node uint64, op func(ctx context.Context, node uint64) error) error {
	if node == cs.n.id {
		return op(ctx, node)
	}
	hctx, cancel := context.WithTimeout(ctx, hopTimeout)
	defer cancel()
	err := op(hctx, node)
	if err != nil && hctx.Err() != nil && ctx.Err() == nil {
		return fmt.Errorf("%w: node %d: %w", errSlowNode, node, err)
	}
	return err
}

// target picks the node to ask first.
func (cs clusterStore) target(partition uint64, leaderOnly bool) uint64 {
	if !leaderOnly && cs.n.store.Replica(partition) != nil {
		return cs.n.id
	}
	if l := cs.n.dir.Leader(partition); l != 0 {
		return l
	}
	if r := cs.n.store.Replica(partition); r != nil {
		if l := r.Leader(); l != 0 {
			return l
		}
		return cs.n.id
	}
	return first(cs.n.dir.Replicas(partition))
}

// other picks a replica of partition other than tried.
func (cs clusterStore) other(partition, tried uint64) uint64 {
	reps := cs.n.dir.Replicas(partition)
	if i := slices.Index(reps, tried); i >= 0 && len(reps) > 1 {
		return reps[(i+1)%len(reps)]
	}
	return 0
}

func (cs clusterStore) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (res *partitapb.Result, err error) {
	err = cs.call(ctx, partition, true, func(ctx context.Context, node uint64) error {
		if node == cs.n.id {
			res, err = cs.n.store.Propose(ctx, partition, cmd)
		} else {
			// A forwarded command may reach the log after a retry of it
			// does: it is never a first attempt.
			cmd.FirstAttempt = false
			res, err = cs.n.client.Propose(ctx, node, partition, cmd)
		}
		return err
	})
	return res, err
}

func (cs clusterStore) Get(ctx context.Context, partition uint64, key []byte, consistent bool) (v []byte, err error) {
	err = cs.call(ctx, partition, consistent, func(ctx context.Context, node uint64) error {
		if node == cs.n.id {
			v, err = cs.n.store.Get(ctx, partition, key, consistent)
		} else {
			v, err = cs.n.client.Get(ctx, node, partition, key, consistent)
		}
		return err
	})
	return v, err
}

func (cs clusterStore) Walk(ctx context.Context, req store.WalkRequest) (res store.WalkResult, err error) {
	err = cs.call(ctx, req.Partition, req.Consistent, func(ctx context.Context, node uint64) error {
		if node == cs.n.id {
			res, err = cs.n.store.Walk(ctx, req)
		} else {
			res, err = cs.n.client.Walk(ctx, node, req)
		}
		return err
	})
	return res, err
}

// CreatePartition bootstraps this node's replica when the placement lists
// it; the other replicas bootstrap theirs when their reconciler sees the
// partition in the directory.
func (cs clusterStore) CreatePartition(ctx context.Context, p *partitapb.Partition) error {
	cs.n.dir.SetReplicas(p.GetId(), p.GetReplicas())
	cs.n.bootMu.Lock()
	defer cs.n.bootMu.Unlock()
	return cs.n.bootstrapIfPlacedHere(p)
}

// DestroyPartition removes this node's replica; other nodes' replicas of a
// deleted table stay until a later issue's garbage collection.
func (cs clusterStore) DestroyPartition(ctx context.Context, partition uint64) error {
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

// unavailable says the node asked cannot serve the partition now (no
// replica, removed from the group, unreachable, unknown): another replica,
// or a later attempt, may.
func unavailable(err error) bool {
	return errors.Is(err, store.ErrNoReplica) || errors.Is(err, cluster.ErrUnreachable) ||
		errors.Is(err, directory.ErrUnknownNode) || errors.Is(err, replica.ErrRemoved) || errors.Is(err, errSlowNode)
}

// metaRetryTimeout bounds proposeMeta's retries.
const metaRetryTimeout = 15 * time.Second

// proposeMeta proposes cmd to the meta partition wherever its leader is,
// retrying (same command id: applied at most once) while leadership moves.
func (n *Node) proposeMeta(ctx context.Context, cmd *partitapb.Command) (*partitapb.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, metaRetryTimeout)
	defer cancel()
	for backoff := 10 * time.Millisecond; ; backoff = min(2*backoff, 500*time.Millisecond) {
		res, err := clusterStore{n}.Propose(ctx, directory.MetaPartition, cmd)
		var nl *replica.NotLeaderError
		if err == nil || !(errors.As(err, &nl) || errors.Is(err, replica.ErrAmbiguous)) {
			return res, err
		}
		select {
		case <-ctx.Done():
			return nil, errors.Join(err, ctx.Err())
		case <-time.After(backoff):
		}
	}
}
