package cluster

import (
	"context"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology"
)

// Local returns node's abilities as a Local, through c: what a router
// uses to treat local and remote replicas alike. Join goes to node's
// current address and follows leader hints from there.
func (c *Client) Local(node uint64) Local {
	return &remoteLocal{c: c, node: node}
}

// remoteLocal is a Local on another node.
type remoteLocal struct {
	c    *Client
	node uint64
}

var _ Local = (*remoteLocal)(nil)

func (r *remoteLocal) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	return r.c.Propose(ctx, r.node, partition, cmd)
}

func (r *remoteLocal) Get(ctx context.Context, partition uint64, key []byte, consistent bool) ([]byte, error) {
	return r.c.Get(ctx, r.node, partition, key, consistent)
}

func (r *remoteLocal) Walk(ctx context.Context, req WalkRequest) (WalkResult, error) {
	return r.c.Walk(ctx, r.node, req)
}

func (r *remoteLocal) Join(ctx context.Context, n *partitapb.Node) (*partitapb.Node, error) {
	addr, err := r.c.cfg.Resolve(r.node)
	if err != nil {
		return nil, err
	}
	return r.c.Join(ctx, addr, n)
}

func (r *remoteLocal) Directory(ctx context.Context) (*directory.Snapshot, error) {
	return r.c.Directory(ctx, r.node)
}

func (r *remoteLocal) CreateReplica(ctx context.Context, partition uint64) error {
	return r.c.CreateReplica(ctx, r.node, partition)
}

func (r *remoteLocal) ReplicaStatus(ctx context.Context) (topology.LocalReplicas, error) {
	return r.c.ReplicaStatus(ctx, r.node)
}

func (r *remoteLocal) AddLearner(ctx context.Context, partition, node uint64) (Membership, error) {
	return r.c.AddLearner(ctx, r.node, partition, node)
}

func (r *remoteLocal) PromoteLearner(ctx context.Context, partition, node uint64) (Membership, error) {
	return r.c.PromoteLearner(ctx, r.node, partition, node)
}

func (r *remoteLocal) RemoveVoter(ctx context.Context, partition, node uint64) (Membership, error) {
	return r.c.RemoveVoter(ctx, r.node, partition, node)
}

func (r *remoteLocal) TransferLeadership(ctx context.Context, partition, to uint64) (uint64, error) {
	return r.c.TransferLeadership(ctx, r.node, partition, to)
}

func (r *remoteLocal) DestroyReplica(ctx context.Context, partition uint64) error {
	return r.c.DestroyReplica(ctx, r.node, partition)
}
