package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/dynamo"
)

// errLegacyWrites is why a stream cannot be enabled while the node's
// leaders write in the legacy format: those writes keep no change log.
var errLegacyWrites = errors.New("the cluster writes items in the legacy format " +
	"(cluster version below 2, or --legacy-writes), which keeps no change log")

// configureStreams sets what the DynamoDB Streams operations need from the
// node: one iterator key for the whole cluster (derived from the cluster
// key, so an iterator from one node reads on another), the change views
// given to this node's leaders at once when a stream changes, the
// stream-status job settling ENABLING and DISABLING streams, and the
// refusal to enable one under legacy writes.
func (n *Node) configureStreams(cfg *dynamo.Config) {
	if k := n.auth.clusterKey; k != nil {
		sum := sha256.Sum256(append([]byte("partita streams shard iterators\x00"), k.Bytes()...))
		cfg.IteratorKey = sum[:]
	}
	cfg.StreamsChanged = func(ctx context.Context) {
		n.freshDirectory(ctx)
		n.setChangeLogs()
		// A stream enabled or disabled settles now, not at the job's
		// next cycle (unless an operator paused the job).
		if n.jobs == nil {
			return
		}
		if info, err := n.jobs.Info(StreamStatusJob); err == nil && !info.Paused {
			if err := n.jobs.RunNow(StreamStatusJob); err != nil {
				n.log.Warn("could not run the stream-status job", "err", err)
			}
		}
	}
	cfg.StreamStatus = func() bool {
		return n.router.NeedVersion(clusterversion.StreamStatus, "Stream status") == nil
	}
	cfg.StreamRetention = n.streamRetention
	cfg.StreamsAllowed = func() error {
		if n.writeFormat() != "effects" {
			return errLegacyWrites
		}
		return nil
	}
}

// DeletedStreamsJob is the name of the job that purges the deleted
// tables kept for their streams once the stream retention has passed.
const DeletedStreamsJob = "deleted-streams"

// deletedStreamsEvery is the period of the deleted-streams job.
const deletedStreamsEvery = time.Minute

// streamRetention is how long a disabled stream, and a deleted table's,
// stays listed and readable: the changelog.retention setting, which also
// governs how long the change log keeps the records.
func (n *Node) streamRetention() time.Duration {
	if n.settings == nil {
		return 0 // dynamo's default
	}
	return n.settings.Get("changelog.retention").Duration()
}

// registerDeletedStreamsJob registers the job that, on the meta
// partition's leader, purges each deleted table kept for its streams
// (directory.IsDeleted) whose stream retention has passed: its record,
// then its partitions' data and replicas (router.PurgeDeletedTable).
func (n *Node) registerDeletedStreamsJob(m *daemon.Manager) error {
	return m.Register(daemon.JobSpec{
		Name:     DeletedStreamsJob,
		Kind:     daemon.Periodic,
		Interval: deletedStreamsEvery,
		Jitter:   deletedStreamsEvery / 5,
		Timeout:  5 * time.Minute,
		Run:      func(ctx context.Context, _ *daemon.Cycle) error { return n.purgeDeletedStreams(ctx) },
	})
}

// purgeDeletedStreams purges the deleted tables whose stream retention
// has passed, when this node leads the meta partition.
func (n *Node) purgeDeletedStreams(ctx context.Context) error {
	r := n.store.Replica(directory.MetaPartition)
	if r == nil || r.Leader() != n.replicaID() {
		return nil
	}
	deleted, err := n.router.DeletedTables(ctx)
	if err != nil {
		return fmt.Errorf("node: deleted tables: %w", err)
	}
	retention := n.streamRetention()
	var errs []error
	for _, t := range deleted {
		if n.now().Sub(time.Unix(0, t.GetDeletedUnixNanos())) < retention {
			continue
		}
		if err := n.router.PurgeDeletedTable(ctx, t); err != nil {
			errs = append(errs, fmt.Errorf("node: purge deleted table %q: %w", t.GetName(), err))
			continue
		}
		n.log.Info("purged a deleted table's streams after their retention", "table_id", t.GetId(),
			"deleted", time.Unix(0, t.GetDeletedUnixNanos()).UTC())
	}
	return errors.Join(errs...)
}
