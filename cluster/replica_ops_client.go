package cluster

import (
	"context"

	"github.com/partitadb/partita/cluster/clusterpb"
	"github.com/partitadb/partita/topology"
)

// The replica operations of the Client: what a control plane asks of a
// node (see Local for their meaning). A membership change waits for the
// new replica to catch up: give it a context with a deadline longer than
// CallTimeout.

// ReplicaStatus lists node's replicas and their raft progress.
func (c *Client) ReplicaStatus(ctx context.Context, node uint64) (topology.LocalReplicas, error) {
	ctx, cancel := c.withTimeout(ctx, node)
	defer cancel()
	stub, where, err := c.stub(node)
	if err != nil {
		return topology.LocalReplicas{}, err
	}
	resp, err := stub.ReplicaStatus(ctx, &clusterpb.ReplicaStatusRequest{})
	if err != nil {
		return topology.LocalReplicas{}, callError(ctx, "ReplicaStatus", where, err)
	}
	if err := decodeError(resp.Error); err != nil {
		return topology.LocalReplicas{}, err
	}
	return localReplicasFromWire(resp), nil
}

// AddLearner adds target as a learner of partition through leader.
func (c *Client) AddLearner(ctx context.Context, leader, partition, target uint64) (Membership, error) {
	return c.changeReplicas(ctx, "AddLearner", leader, partition, target, clusterpb.ClusterClient.AddLearner)
}

// PromoteLearner makes learner target a voter of partition through leader.
func (c *Client) PromoteLearner(ctx context.Context, leader, partition, target uint64) (Membership, error) {
	return c.changeReplicas(ctx, "PromoteLearner", leader, partition, target, clusterpb.ClusterClient.PromoteLearner)
}

// RemoveVoter removes target from partition through leader.
func (c *Client) RemoveVoter(ctx context.Context, leader, partition, target uint64) (Membership, error) {
	return c.changeReplicas(ctx, "RemoveVoter", leader, partition, target, clusterpb.ClusterClient.RemoveVoter)
}

// changeRPC is one of the membership-change methods of the stub.
type changeRPC func(clusterpb.ClusterClient, context.Context, *clusterpb.ChangeReplicasRequest, ...grpcCallOption) (*clusterpb.ChangeReplicasResponse, error)

func (c *Client) changeReplicas(ctx context.Context, method string, leader, partition, target uint64, rpc changeRPC) (Membership, error) {
	ctx, cancel := c.withTimeout(ctx, leader)
	defer cancel()
	stub, where, err := c.stub(leader)
	if err != nil {
		return Membership{}, err
	}
	resp, err := rpc(stub, ctx, &clusterpb.ChangeReplicasRequest{Partition: partition, Node: target})
	if err != nil {
		return Membership{}, callError(ctx, method, where, err)
	}
	if err := decodeError(resp.Error); err != nil {
		return Membership{}, err
	}
	return Membership{Voters: resp.Voters, Learners: resp.Learners}, nil
}

// TransferLeadership hands node's leadership of partition to voter to (0:
// the voter node chooses) and returns the new leader.
func (c *Client) TransferLeadership(ctx context.Context, node, partition, to uint64) (uint64, error) {
	ctx, cancel := c.withTimeout(ctx, node)
	defer cancel()
	stub, where, err := c.stub(node)
	if err != nil {
		return 0, err
	}
	resp, err := stub.TransferLeadership(ctx, &clusterpb.TransferLeadershipRequest{Partition: partition, To: to})
	if err != nil {
		return 0, callError(ctx, "TransferLeadership", where, err)
	}
	if err := decodeError(resp.Error); err != nil {
		return 0, err
	}
	return resp.Leader, nil
}

// DestroyReplica removes node's replica of partition.
func (c *Client) DestroyReplica(ctx context.Context, node, partition uint64) error {
	ctx, cancel := c.withTimeout(ctx, node)
	defer cancel()
	stub, where, err := c.stub(node)
	if err != nil {
		return err
	}
	resp, err := stub.DestroyReplica(ctx, &clusterpb.DestroyReplicaRequest{Partition: partition})
	if err != nil {
		return callError(ctx, "DestroyReplica", where, err)
	}
	return decodeError(resp.Error)
}

func localReplicasFromWire(resp *clusterpb.ReplicaStatusResponse) topology.LocalReplicas {
	out := topology.LocalReplicas{Node: resp.Node, Replicas: make([]topology.LocalReplica, 0, len(resp.Replicas))}
	for _, r := range resp.Replicas {
		out.Replicas = append(out.Replicas, topology.LocalReplica{
			Partition: r.Partition, Leader: r.Leader, Lead: r.Lead, Term: r.Term, Applied: r.Applied,
			LogEntries: r.LogEntries, LogBytes: r.LogBytes, Voters: r.Voters, Learners: r.Learners,
			RangeGeneration: r.RangeGeneration, FrozenFor: r.FrozenFor, FrozenLeft: r.FrozenLeft,
		})
	}
	return out
}

func localReplicasToWire(l topology.LocalReplicas) *clusterpb.ReplicaStatusResponse {
	resp := &clusterpb.ReplicaStatusResponse{Node: l.Node, Replicas: make([]*clusterpb.ReplicaState, 0, len(l.Replicas))}
	for _, r := range l.Replicas {
		resp.Replicas = append(resp.Replicas, &clusterpb.ReplicaState{
			Partition: r.Partition, Leader: r.Leader, Lead: r.Lead, Term: r.Term, Applied: r.Applied,
			LogEntries: r.LogEntries, LogBytes: r.LogBytes, Voters: r.Voters, Learners: r.Learners,
			RangeGeneration: r.RangeGeneration, FrozenFor: r.FrozenFor, FrozenLeft: r.FrozenLeft,
		})
	}
	return resp
}
