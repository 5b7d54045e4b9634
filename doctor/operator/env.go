package operator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/topology"
)

// Bounds of the controller's calls.
const (
	// StatusTimeout bounds one node's answer to ReplicaStatus.
	StatusTimeout = 2 * time.Second
	// StepTimeout bounds one step, a new replica's catch-up included.
	StepTimeout = time.Minute
	// leaderAttempts bounds the leaders a step on the leader follows.
	leaderAttempts = 8
	// noLeaderWait is the pause before looking for a leader again.
	noLeaderWait = 500 * time.Millisecond
)

// ErrNoLeader is returned by a step on a partition's leader when none
// could be found.
var ErrNoLeader = errors.New("operator: the partition has no leader")

// Env is what a running step sees: the cluster, and the leaders learnt so
// far. It is safe for concurrent use.
type Env struct {
	c   Cluster
	log *slog.Logger

	mu      sync.Mutex
	leaders map[uint64]uint64 // by partition
}

// NewEnv returns an Env over c.
func NewEnv(c Cluster, log *slog.Logger) *Env {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Env{c: c, log: log, leaders: map[uint64]uint64{}}
}

// View returns a fresh directory, and the view of every partition from
// it and every node's ReplicaStatus; it remembers the leaders it shows.
func (e *Env) View(ctx context.Context) (*directory.Snapshot, []topology.PartitionInfo, topology.Answers) {
	snap := e.c.Directory(ctx)
	a := topology.Gather(ctx, snap, StatusTimeout, e.Status)
	parts, _ := topology.Partitions(snap, "", a) // every table: no ErrNoTable
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range parts {
		e.leaders[p.ID] = p.Leader
	}
	return snap, parts, a
}

// Status is node's answer to ReplicaStatus.
func (e *Env) Status(ctx context.Context, node uint64) (topology.LocalReplicas, error) {
	return e.c.Node(node).ReplicaStatus(ctx)
}

// knownLeader returns partition's leader as last learnt (0: unknown).
func (e *Env) knownLeader(partition uint64) uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leaders[partition]
}

// leader returns partition's leader as last learnt, or asks the nodes.
func (e *Env) leader(ctx context.Context, partition uint64) uint64 {
	if l := e.knownLeader(partition); l != 0 {
		return l
	}
	e.View(ctx)
	return e.knownLeader(partition)
}

func (e *Env) setLeader(partition, node uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.leaders[partition] = node
}

// onLeader runs op on partition's leader, following leadership when it
// moves (a hint, a removed leader that handed over, an election).
func (e *Env) onLeader(ctx context.Context, partition uint64, op func(Replicas) error) error {
	var err error
	for attempt := 0; attempt < leaderAttempts && ctx.Err() == nil; attempt++ {
		leader := e.leader(ctx, partition)
		if leader == 0 {
			err = fmt.Errorf("partition %d: %w", partition, ErrNoLeader)
			sleep(ctx, noLeaderWait)
			continue
		}
		err = op(e.c.Node(leader))
		var nl *replica.NotLeaderError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &nl) && nl.Leader != leader:
			e.setLeader(partition, nl.Leader)
		case errors.As(err, &nl), errors.Is(err, cluster.ErrLeadershipMoved), errors.Is(err, cluster.ErrUnreachable):
			e.setLeader(partition, 0)
			sleep(ctx, noLeaderWait)
		default:
			return err
		}
	}
	if ctx.Err() != nil {
		return errors.Join(err, ctx.Err())
	}
	return err
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
