package node

import (
	"context"
	"crypto/sha256"
	"errors"

	"github.com/partitadb/partita/dynamo"
)

// errLegacyWrites is why a stream cannot be enabled while the node's
// leaders write in the legacy format: those writes keep no change log.
var errLegacyWrites = errors.New("the cluster writes items in the legacy format " +
	"(cluster version below 2, or --legacy-writes), which keeps no change log")

// configureStreams sets what the DynamoDB Streams operations need from the
// node: one iterator key for the whole cluster (derived from the cluster
// key, so an iterator from one node reads on another), the change views
// given to this node's leaders at once when a stream changes, and the
// refusal to enable one under legacy writes.
func (n *Node) configureStreams(cfg *dynamo.Config) {
	if k := n.auth.clusterKey; k != nil {
		sum := sha256.Sum256(append([]byte("partita streams shard iterators\x00"), k.Bytes()...))
		cfg.IteratorKey = sum[:]
	}
	cfg.StreamsChanged = func(ctx context.Context) {
		n.freshDirectory(ctx)
		n.setChangeLogs()
	}
	cfg.StreamsAllowed = func() error {
		if n.writeFormat() != "effects" {
			return errLegacyWrites
		}
		return nil
	}
}
