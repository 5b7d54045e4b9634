package node

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/router"
)

// peer is what this node does for the other nodes (cluster.Local): its
// store's replicas, and the directory when it holds a meta replica.
type peer struct{ n *Node }

func (n *Node) peer() peer { return peer{n} }

var _ cluster.Local = peer{}

func (p peer) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	return p.n.store.Propose(ctx, partition, cmd)
}

func (p peer) Get(ctx context.Context, partition uint64, key []byte, consistent bool) ([]byte, error) {
	return p.n.store.Get(ctx, partition, key, consistent)
}

func (p peer) Walk(ctx context.Context, req cluster.WalkRequest) (cluster.WalkResult, error) {
	return p.n.store.Walk(ctx, req)
}

// Join adds the node to the directory through the meta leader, here or
// forwarded to it: a joining node may contact any member.
func (p peer) Join(ctx context.Context, rec *partitapb.Node) (*partitapb.Node, error) {
	cmd := &partitapb.Command{Id: router.RandomID(), UnixNanos: p.n.now().UnixNano(),
		Op: &partitapb.Command_PutNode{PutNode: &partitapb.PutNode{Node: rec}}}
	var res *partitapb.Result
	var err error
	if p.n.client == nil || p.n.store.Replica(directory.MetaPartition) != nil && p.n.store.Replica(directory.MetaPartition).Leader() == p.n.id {
		res, err = p.n.store.Propose(ctx, directory.MetaPartition, cmd)
	} else {
		res, err = clusterStore(p).Propose(ctx, directory.MetaPartition, cmd)
	}
	if err != nil {
		return nil, err
	}
	if res.GetError() != nil {
		return nil, res.GetError()
	}
	p.n.dir.AddNode(res.GetNode())
	return res.GetNode(), nil
}

// Directory serves the catalogue from this node's meta replica after a
// read barrier.
func (p peer) Directory(ctx context.Context) (*directory.Snapshot, error) {
	return p.n.localDirectory(ctx, true)
}

func (p peer) CreateReplica(ctx context.Context, partition uint64) error {
	return p.n.store.AddEmptyReplica(partition)
}

// localDirectory reads the catalogue from this node's meta replica.
func (n *Node) localDirectory(ctx context.Context, consistent bool) (*directory.Snapshot, error) {
	r := n.store.Replica(directory.MetaPartition)
	if r == nil {
		return nil, &replica.NotLeaderError{Partition: directory.MetaPartition, Leader: first(n.dir.MetaReplicas())}
	}
	if consistent {
		if err := n.store.ReadIndex(ctx, directory.MetaPartition); err != nil {
			return nil, err
		}
	}
	tables, err := directory.ReadTables(n.eng.Reader())
	if err != nil {
		return nil, fmt.Errorf("node: directory: %w", err)
	}
	nodes, err := directory.ReadNodes(n.eng.Reader())
	if err != nil {
		return nil, fmt.Errorf("node: directory: %w", err)
	}
	return &directory.Snapshot{Tables: tables, Nodes: nodes, MetaReplicas: r.ConfState().Voters}, nil
}

func first(ids []uint64) uint64 {
	if len(ids) == 0 {
		return 0
	}
	return ids[0]
}
