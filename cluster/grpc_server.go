package cluster

import (
	"context"
	"errors"

	"google.golang.org/grpc"

	"github.com/partitadb/partita/cluster/clusterpb"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// Register adds the Cluster service, served by l, to s. Nodes serve it on
// their peer gRPC server, next to the raft transport, so s should be made
// with transport.ServerOptions (large messages, keepalive pings).
//
// Every error of l travels in the response's error field; the RPC itself
// fails only when the request never reached l (malformed, cancelled).
func Register(s *grpc.Server, l Local, opts ...Option) {
	svc := &service{l: l}
	for _, o := range opts {
		o(svc)
	}
	clusterpb.RegisterClusterServer(s, svc)
}

// service adapts a Local to the generated server interface.
type service struct {
	clusterpb.UnimplementedClusterServer
	l        Local
	settings SettingsWatcher // nil: WatchSettings answers ErrNoSettingsWatcher
}

var (
	errNoCommand = errors.New("cluster: Propose without a command")
	errNoNode    = errors.New("cluster: Join without a node")
)

func (s *service) Propose(ctx context.Context, req *clusterpb.ProposeRequest) (*clusterpb.ProposeResponse, error) {
	res, err := s.propose(withTraceParent(ctx, req.GetTrace()), req.GetPartition(), req.GetCommand())
	if err != nil {
		return &clusterpb.ProposeResponse{Error: encodeError(err)}, nil
	}
	return &clusterpb.ProposeResponse{Result: res}, nil
}

// propose serves a forwarded command, unary or streamed.
func (s *service) propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	if cmd == nil {
		return nil, errNoCommand
	}
	// A command that crossed the network may reach the log after a retry
	// of it: it is never a first attempt (see Command.first_attempt),
	// whatever the sender said.
	cmd.FirstAttempt = false
	return s.l.Propose(ctx, partition, cmd)
}

func (s *service) Get(ctx context.Context, req *clusterpb.GetRequest) (*clusterpb.GetResponse, error) {
	v, err := s.l.Get(withTraceParent(ctx, req.GetTrace()), req.Partition, req.Key, req.Consistent)
	if err != nil {
		return &clusterpb.GetResponse{Error: encodeError(err)}, nil
	}
	return &clusterpb.GetResponse{Found: v != nil, Value: v}, nil
}

func (s *service) Walk(ctx context.Context, req *clusterpb.WalkRequest) (*clusterpb.WalkResponse, error) {
	res, err := s.l.Walk(withTraceParent(ctx, req.GetTrace()), walkRequestFromWire(req))
	if err != nil {
		return &clusterpb.WalkResponse{Error: encodeError(err)}, nil
	}
	if len(res.Keys) != len(res.Values) {
		err := errors.New("cluster: Walk returned keys and values of different counts")
		return &clusterpb.WalkResponse{Error: encodeError(err)}, nil
	}
	return &clusterpb.WalkResponse{Keys: res.Keys, Values: res.Values, More: res.More}, nil
}

// walkRequestFromWire converts req, capping its byte bound at
// MaxWalkBytes and clamping negative bounds to none.
func walkRequestFromWire(req *clusterpb.WalkRequest) WalkRequest {
	maxBytes := int(max(req.MaxBytes, 0))
	if maxBytes == 0 || maxBytes > MaxWalkBytes {
		maxBytes = MaxWalkBytes
	}
	return WalkRequest{
		Partition:  req.Partition,
		Lo:         req.Lo,
		Hi:         req.Hi,
		Reverse:    req.Reverse,
		Consistent: req.Consistent,
		MaxItems:   int(max(req.MaxItems, 0)),
		MaxBytes:   maxBytes,
	}
}

func (s *service) Join(ctx context.Context, req *clusterpb.JoinRequest) (*clusterpb.JoinResponse, error) {
	if req.Node == nil {
		return &clusterpb.JoinResponse{Error: encodeError(errNoNode)}, nil
	}
	if a, ok := s.l.(JoinAdmitter); ok {
		if err := a.AdmitJoin(ctx, req.Node, req.JoinToken); err != nil {
			return &clusterpb.JoinResponse{Error: encodeError(err)}, nil
		}
	}
	n, err := s.l.Join(ctx, req.Node)
	if err != nil {
		return &clusterpb.JoinResponse{Error: encodeError(err)}, nil
	}
	resp := &clusterpb.JoinResponse{Node: n}
	if k, ok := s.l.(KeyHolder); ok {
		resp.ClusterKey = k.ClusterKey()
	}
	return resp, nil
}

func (s *service) Directory(ctx context.Context, _ *clusterpb.DirectoryRequest) (*clusterpb.DirectoryResponse, error) {
	d, err := s.l.Directory(ctx)
	if err != nil {
		return &clusterpb.DirectoryResponse{Error: encodeError(err)}, nil
	}
	if d == nil {
		d = &directory.Snapshot{}
	}
	return &clusterpb.DirectoryResponse{Tables: d.Tables, Nodes: d.Nodes, MetaReplicas: d.MetaReplicas,
		DoctorLease: d.DoctorLease, DoctorSettings: d.DoctorSettings, Settings: d.Settings, ClusterVersion: d.ClusterVersion}, nil
}

func (s *service) CreateReplica(ctx context.Context, req *clusterpb.CreateReplicaRequest) (*clusterpb.CreateReplicaResponse, error) {
	err := s.l.CreateReplica(incomingEpoch(ctx), req.Partition)
	return &clusterpb.CreateReplicaResponse{Error: encodeError(err)}, nil
}
