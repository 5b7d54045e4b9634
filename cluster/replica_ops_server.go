package cluster

import (
	"context"
	"errors"

	"google.golang.org/grpc"

	"github.com/partitadb/partita/cluster/clusterpb"
)

// grpcCallOption names the stub methods' option type in changeRPC.
type grpcCallOption = grpc.CallOption

var errNoPartition = errors.New("cluster: replica operation without a partition")

func (s *service) ReplicaStatus(ctx context.Context, _ *clusterpb.ReplicaStatusRequest) (*clusterpb.ReplicaStatusResponse, error) {
	l, err := s.l.ReplicaStatus(ctx)
	if err != nil {
		return &clusterpb.ReplicaStatusResponse{Error: encodeError(err)}, nil
	}
	return localReplicasToWire(l), nil
}

func (s *service) AddLearner(ctx context.Context, req *clusterpb.ChangeReplicasRequest) (*clusterpb.ChangeReplicasResponse, error) {
	return changeResponse(ctx, req, s.l.AddLearner)
}

func (s *service) PromoteLearner(ctx context.Context, req *clusterpb.ChangeReplicasRequest) (*clusterpb.ChangeReplicasResponse, error) {
	return changeResponse(ctx, req, s.l.PromoteLearner)
}

func (s *service) RemoveVoter(ctx context.Context, req *clusterpb.ChangeReplicasRequest) (*clusterpb.ChangeReplicasResponse, error) {
	return changeResponse(ctx, req, s.l.RemoveVoter)
}

var errNoNodeToChange = errors.New("cluster: membership change without a node")

func changeResponse(ctx context.Context, req *clusterpb.ChangeReplicasRequest,
	change func(ctx context.Context, partition, node uint64) (Membership, error)) (*clusterpb.ChangeReplicasResponse, error) {
	switch {
	case req.Partition == 0:
		return &clusterpb.ChangeReplicasResponse{Error: encodeError(errNoPartition)}, nil
	case req.Node == 0:
		return &clusterpb.ChangeReplicasResponse{Error: encodeError(errNoNodeToChange)}, nil
	}
	m, err := change(incomingEpoch(ctx), req.Partition, req.Node)
	if err != nil {
		return &clusterpb.ChangeReplicasResponse{Error: encodeError(err)}, nil
	}
	return &clusterpb.ChangeReplicasResponse{Voters: m.Voters, Learners: m.Learners}, nil
}

func (s *service) TransferLeadership(ctx context.Context, req *clusterpb.TransferLeadershipRequest) (*clusterpb.TransferLeadershipResponse, error) {
	if req.Partition == 0 {
		return &clusterpb.TransferLeadershipResponse{Error: encodeError(errNoPartition)}, nil
	}
	leader, err := s.l.TransferLeadership(incomingEpoch(ctx), req.Partition, req.To)
	if err != nil {
		return &clusterpb.TransferLeadershipResponse{Error: encodeError(err)}, nil
	}
	return &clusterpb.TransferLeadershipResponse{Leader: leader}, nil
}

func (s *service) DestroyReplica(ctx context.Context, req *clusterpb.DestroyReplicaRequest) (*clusterpb.DestroyReplicaResponse, error) {
	if req.Partition == 0 {
		return &clusterpb.DestroyReplicaResponse{Error: encodeError(errNoPartition)}, nil
	}
	return &clusterpb.DestroyReplicaResponse{Error: encodeError(s.l.DestroyReplica(incomingEpoch(ctx), req.Partition))}, nil
}
