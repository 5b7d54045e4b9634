package cluster_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/cluster/clusterpb"
	"github.com/partitadb/partita/topology/topologypb"
	"github.com/partitadb/partita/transport"
)

// reportSink serves ReportTopology alone, keeping what it receives (the
// receiving side belongs to the node's Local; this checks the client).
type reportSink struct {
	clusterpb.UnimplementedClusterServer
	got  chan *topologypb.TopologySnapshot
	fail atomic.Bool
}

func (s *reportSink) ReportTopology(_ context.Context, req *clusterpb.ReportTopologyRequest) (*clusterpb.ReportTopologyResponse, error) {
	if s.fail.Load() {
		return &clusterpb.ReportTopologyResponse{Error: &clusterpb.Error{Kind: clusterpb.Error_INTERNAL, Message: "sink refuses"}}, nil
	}
	s.got <- req.GetSnapshot()
	return &clusterpb.ReportTopologyResponse{}, nil
}

func serveSink(t *testing.T, sink *reportSink) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(transport.ServerOptions()...)
	clusterpb.RegisterClusterServer(s, sink)
	done := make(chan struct{})
	go func() { defer close(done); s.Serve(lis) }()
	t.Cleanup(func() { s.Stop(); <-done })
	return lis.Addr().String()
}

func TestReportTopologyClient(t *testing.T) {
	sink := &reportSink{got: make(chan *topologypb.TopologySnapshot, 1)}
	var b book
	b.set(5, serveSink(t, sink))
	c := newClient(t, &b)
	snap := &topologypb.TopologySnapshot{Version: topologypb.SchemaVersion_SCHEMA_VERSION_1, Seq: 9,
		Node: &topologypb.Node{Id: 2}, Replicas: []*topologypb.Replica{{Partition: 1, Role: topologypb.Role_ROLE_LEADER}}}
	if err := c.ReportTopology(context.Background(), 5, snap); err != nil {
		t.Fatal(err)
	}
	if got := <-sink.got; !proto.Equal(got, snap) {
		t.Fatalf("received %v, want %v", got, snap)
	}
	sink.fail.Store(true)
	if err := c.ReportTopology(context.Background(), 5, snap); !errors.Is(err, cluster.ErrInternal) {
		t.Fatalf("a refused report returned %v, want ErrInternal", err)
	}
	if err := c.ReportTopology(context.Background(), 6, snap); err == nil {
		t.Fatal("a report to an unknown node succeeded")
	}
}
