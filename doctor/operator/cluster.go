package operator

import (
	"context"
	"time"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/topology"
)

// Cluster is what steps act through. A node implements it over its
// cluster.Client and directory cache. Its methods are called from several
// goroutines at once (a drain transfers leaderships concurrently).
type Cluster interface {
	// Directory returns the directory, refreshed when it can be (a cached
	// copy otherwise). The snapshot is shared: do not modify it.
	Directory(ctx context.Context) *directory.Snapshot
	// Now is the time node liveness is judged at.
	Now() time.Time
	// Node returns node's replica operations: this node's own, or another
	// node's over RPC.
	Node(node uint64) Replicas
	// SetReplicas makes table's partition list replicas in the directory,
	// provided its generation is still generation; a *partitapb.Error
	// says it is not.
	SetReplicas(ctx context.Context, table string, partition uint64, replicas []uint64, generation uint64) error
	// RemoveNode deletes node's directory record; the Doctor's only while
	// it carries a decommissioning mark.
	RemoveNode(ctx context.Context, node uint64) error
	// Split splits partition of table in two, the right half starting
	// at hash (0: the middle of its range), and records both halves in
	// the directory.
	Split(ctx context.Context, table string, partition, hash uint64) error
	// Merge merges partition of table with its right neighbour, which
	// must be with, and records the merge in the directory.
	Merge(ctx context.Context, table string, partition, with uint64) error
}

// Replicas are the replica operations of one node, as cluster.Local
// defines them (errors included: *replica.NotLeaderError,
// cluster.ErrLeadershipMoved, cluster.ErrStillListed,
// cluster.ErrUnreachable).
type Replicas interface {
	CreateReplica(ctx context.Context, partition uint64) error
	ReplicaStatus(ctx context.Context) (topology.LocalReplicas, error)
	AddLearner(ctx context.Context, partition, node uint64) (cluster.Membership, error)
	PromoteLearner(ctx context.Context, partition, node uint64) (cluster.Membership, error)
	RemoveVoter(ctx context.Context, partition, node uint64) (cluster.Membership, error)
	TransferLeadership(ctx context.Context, partition, to uint64) (uint64, error)
	DestroyReplica(ctx context.Context, partition uint64) error
}

var _ Replicas = cluster.Local(nil)
