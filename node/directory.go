package node

import (
	"context"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/route"
)

// refreshDirectory reloads the directory cache through the route (see
// route.Sender.Refresh).
func (n *Node) refreshDirectory(ctx context.Context) error {
	has := n.store.Replica(directory.MetaPartition) != nil
	return n.sender.Refresh(ctx, directorySource{n}, has, n.cfg.Join)
}

// directorySource reads the directory from this node's meta replica or,
// through the cluster client, from another node's.
type directorySource struct{ n *Node }

var _ route.Source = directorySource{}

func (s directorySource) Local(ctx context.Context) (*directory.Snapshot, error) {
	return s.n.localDirectory(ctx, false)
}

func (s directorySource) Node(ctx context.Context, node uint64) (*directory.Snapshot, error) {
	return s.n.client.Directory(ctx, node)
}

func (s directorySource) At(ctx context.Context, addr string) (*directory.Snapshot, error) {
	return s.n.client.DirectoryAt(ctx, addr)
}
