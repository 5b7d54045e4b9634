package cluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/cluster/clusterpb"
	"github.com/partitadb/partita/topology/ingest"
	"github.com/partitadb/partita/topology/topologypb"
)

// ingestReceiver hands reports to a real ingester, as a node does.
type ingestReceiver struct{ in *ingest.Ingester }

func (r ingestReceiver) ReceiveTopology(_ context.Context, s *topologypb.TopologySnapshot) error {
	return r.in.Report(s)
}

func stub(t *testing.T, addr string) clusterpb.ClusterClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return clusterpb.NewClusterClient(conn)
}

func TestReportTopology(t *testing.T) {
	now := time.Now()
	in, err := ingest.New(ingest.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, "127.0.0.1:0", cluster.WithTopologyReceiver(newMemLocal(), ingestReceiver{in}))
	c := stub(t, srv.addr)
	ctx := context.Background()
	g := ingest.Synthetic{Nodes: 3, Replicas: 2, Interval: time.Second, Start: now.Add(-time.Minute)}
	s := g.Snapshot(2, 60)
	resp, err := c.ReportTopology(ctx, &clusterpb.ReportTopologyRequest{Snapshot: s})
	if err != nil || resp.Error != nil {
		t.Fatalf("report: %v, %v", err, resp.GetError())
	}
	if n, ok := in.View().Node(2); !ok || n.Seq != 60 || n.Replicas != 2 {
		t.Fatalf("view after the report: %+v", n)
	}
	// What the receiver refuses travels back with its reason.
	future := g.Snapshot(2, 61)
	future.UnixNanos = now.Add(time.Hour).UnixNano()
	resp, err = c.ReportTopology(ctx, &clusterpb.ReportTopologyRequest{Snapshot: future})
	if err != nil || !strings.Contains(resp.GetError().GetMessage(), "future") {
		t.Fatalf("future snapshot: %v, %v", err, resp.GetError())
	}
	resp, err = c.ReportTopology(ctx, &clusterpb.ReportTopologyRequest{})
	if err != nil || !strings.Contains(resp.GetError().GetMessage(), "without a snapshot") {
		t.Fatalf("no snapshot: %v, %v", err, resp.GetError())
	}
	// A node without a receiver says so.
	plain := serve(t, "127.0.0.1:0", newMemLocal())
	resp, err = stub(t, plain.addr).ReportTopology(ctx, &clusterpb.ReportTopologyRequest{Snapshot: s})
	if err != nil || resp.GetError().GetMessage() != cluster.ErrNoTopologyReceiver.Error() {
		t.Fatalf("no receiver: %v, %v", err, resp.GetError())
	}
}
