package cluster

import (
	"context"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/topology"
)

// Local is what a node does for its peers: the server side of the Cluster
// service calls it, and the node implements it over its store and
// directory. Its methods are called concurrently, one goroutine per RPC,
// and must respect ctx.
//
// Errors cross the wire faithfully (see errors.go): a
// *replica.NotLeaderError, replica.ErrAmbiguous, replica.ErrRemoved,
// store.ErrNoReplica (wrapped or not), a *partitapb.Error or a context
// error returned here is what the calling node's errors.As and errors.Is
// find. Any other error reaches the caller as ErrInternal with its text.
//
// Arguments belong to the callee for the duration of the call; results
// belong to the caller once returned.
type Local interface {
	// Propose replicates cmd on partition through this node's replica
	// (which must be the leader) and returns its apply result.
	Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error)
	// Get returns the value under key in partition's local replica (nil,
	// nil when absent), after a read barrier when consistent.
	Get(ctx context.Context, partition uint64, key []byte, consistent bool) ([]byte, error)
	// Walk reads up to MaxItems items and MaxBytes bytes of partition's
	// local replica in [Lo, Hi) (backwards when Reverse), after a read
	// barrier when Consistent.
	Walk(ctx context.Context, req WalkRequest) (WalkResult, error)
	// Join adds or updates a node in the directory (served by the meta
	// leader) and returns its record, with its id.
	Join(ctx context.Context, n *partitapb.Node) (*partitapb.Node, error)
	// Directory returns the directory: tables, nodes and the meta
	// partition's replicas (served by a meta replica after a read
	// barrier).
	Directory(ctx context.Context) (*directory.Snapshot, error)
	// CreateReplica makes this node host an empty replica of partition (a
	// learner about to be added to its group).
	CreateReplica(ctx context.Context, partition uint64) error

	// ReplicaStatus lists this node's replicas, by partition, with their
	// raft progress and applied configuration.
	ReplicaStatus(ctx context.Context) (topology.LocalReplicas, error)
	// AddLearner, on partition's leader, adds node (which hosts an empty
	// replica, see CreateReplica) as a learner; done already, a no-op.
	// Elsewhere it fails with a *replica.NotLeaderError.
	AddLearner(ctx context.Context, partition, node uint64) (Membership, error)
	// PromoteLearner, on partition's leader, makes learner node a voter
	// once it has caught up; a voter already, a no-op.
	PromoteLearner(ctx context.Context, partition, node uint64) (Membership, error)
	// RemoveVoter, on partition's leader, removes node from the group; not
	// a member, a no-op. When node is this leader, it hands leadership to
	// another voter first and fails with ErrLeadershipMoved.
	RemoveVoter(ctx context.Context, partition, node uint64) (Membership, error)
	// TransferLeadership hands this node's leadership of partition to
	// voter to (0: its most caught-up live voter) and returns the new
	// leader; elsewhere it fails with a *replica.NotLeaderError.
	TransferLeadership(ctx context.Context, partition, to uint64) (uint64, error)
	// DestroyReplica removes this node's replica of partition once the
	// directory no longer lists the node there (ErrStillListed until
	// then; the meta partition, whose replicas are its configuration, is
	// the caller's to check). No replica here: a no-op.
	DestroyReplica(ctx context.Context, partition uint64) error
}

// Membership is a partition's raft configuration after a change.
type Membership struct {
	Voters   []uint64
	Learners []uint64
}

// WalkRequest asks for a page of a partition's keys in [Lo, Hi) (an
// empty Hi: no upper bound), backwards when Reverse, after a read barrier
// when Consistent. MaxItems and MaxBytes (keys plus values) bound the page,
// 0 meaning no bound; at least one item is returned when one is in range.
// It is the store's type, so a node passes it through to store.Walk. Over
// the wire, the server caps MaxBytes at MaxWalkBytes so that one response
// always fits in a message.
type WalkRequest = store.WalkRequest

// WalkResult is a page of keys and values in walk order; More says a limit
// stopped the page before the end of the range (the next page starts
// after the last key, or before it when Reverse).
type WalkResult = store.WalkResult

// MaxWalkBytes caps the bytes of one Walk response.
const MaxWalkBytes = 16 << 20

// maxMsgBytes is the largest message a client accepts: a walk of
// MaxWalkBytes with its framing, or a large command result.
const maxMsgBytes = 64 << 20
