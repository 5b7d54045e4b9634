package cluster

import (
	"context"
	"errors"

	"github.com/partitadb/partita/cluster/clusterpb"
	"github.com/partitadb/partita/topology/topologypb"
)

// TopologyReceiver takes the topology snapshots other nodes report over
// ReportTopology (the fast path of the topology pipeline): a node hands
// them to its ingester. It is optional beside Local: a Local that also
// implements it serves ReportTopology (see WithTopologyReceiver); one that
// does not answers ErrNoTopologyReceiver.
//
// ReceiveTopology is called concurrently, one goroutine per RPC. The
// snapshot belongs to the receiver once called. An error reaches the
// reporting node (as ErrInternal with its text): a snapshot the receiver
// could not use, e.g. from a node whose clock runs ahead.
type TopologyReceiver interface {
	ReceiveTopology(ctx context.Context, s *topologypb.TopologySnapshot) error
}

// ErrNoTopologyReceiver is the answer of a node that takes no reports.
var ErrNoTopologyReceiver = errors.New("cluster: this node takes no topology reports")

var errNoSnapshot = errors.New("cluster: ReportTopology without a snapshot")

// WithTopologyReceiver returns l, serving ReportTopology through r: pass
// it to Register.
func WithTopologyReceiver(l Local, r TopologyReceiver) Local {
	return localWithReceiver{Local: l, TopologyReceiver: r}
}

// localWithReceiver is a Local and a TopologyReceiver.
type localWithReceiver struct {
	Local
	TopologyReceiver
}

func (s *service) ReportTopology(ctx context.Context, req *clusterpb.ReportTopologyRequest) (*clusterpb.ReportTopologyResponse, error) {
	r, ok := s.l.(TopologyReceiver)
	switch {
	case !ok:
		return &clusterpb.ReportTopologyResponse{Error: encodeError(ErrNoTopologyReceiver)}, nil
	case req.Snapshot == nil:
		return &clusterpb.ReportTopologyResponse{Error: encodeError(errNoSnapshot)}, nil
	}
	return &clusterpb.ReportTopologyResponse{Error: encodeError(r.ReceiveTopology(ctx, req.Snapshot))}, nil
}
