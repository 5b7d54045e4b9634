package transport_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

// storeNode is a raft store on a real engine, reached over a GRPC
// transport on a loopback port: the wiring a node does.
type storeNode struct {
	eng   *engine.Engine
	s     *store.Store
	tr    *transport.GRPC
	reg   *prometheus.Registry
	serve chan error
}

func startStoreNode(t *testing.T, dir *directory, id uint64) *storeNode {
	t.Helper()
	eng, err := engine.Open(engine.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := store.DefaultConfig()
	cfg.NodeID, cfg.Engine, cfg.TickInterval = id, eng, 10*time.Millisecond
	s, err := store.NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir.set(id, lis.Addr().String())
	reg := prometheus.NewRegistry()
	tr, err := transport.NewGRPC(testConfig(id, dir, reg))
	if err != nil {
		t.Fatal(err)
	}
	n := &storeNode{eng: eng, s: s, tr: tr, reg: reg, serve: make(chan error, 1)}
	go func() { n.serve <- tr.Serve(lis, s) }()
	s.Start(tr)
	t.Cleanup(func() { n.stop(t) })
	return n
}

// stop stops the store first (nothing more to send), then the transport,
// then the engine.
func (n *storeNode) stop(t *testing.T) {
	n.s.Stop()
	if err := n.tr.Close(); err != nil {
		t.Error(err)
	}
	select {
	case err := <-n.serve:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(failsafe):
		t.Error("Serve did not return after Close")
	}
	if err := n.eng.Close(); err != nil {
		t.Error(err)
	}
}

func counterCommand(id string) *partitapb.Command {
	k, _ := engine.DataKey(nil, 1, item.S("counter"), item.Value{})
	return &partitapb.Command{Id: []byte(id), Op: &partitapb.Command_UpdateItem{UpdateItem: &partitapb.UpdateItem{
		Key: k, KeyItem: item.EncodeItem(item.Item{"pk": item.S("counter")}),
		Update: &partitapb.Expression{Text: "ADD n :one", Values: item.EncodeItem(item.Item{":one": item.N(item.MustNumber("1"))})},
	}}}
}

func counterValue(t *testing.T, eng *engine.Engine) string {
	k, _ := engine.DataKey(nil, 1, item.S("counter"), item.Value{})
	raw, err := eng.Get(k)
	if err != nil {
		return "missing"
	}
	it, err := item.DecodeItem(raw)
	if err != nil {
		t.Fatal(err)
	}
	return it["n"].N.String()
}

// proposeOnLeader retries cmd on whichever node leads partition until it
// applies.
func proposeOnLeader(t *testing.T, nodes []*storeNode, partition uint64, cmd *partitapb.Command) {
	t.Helper()
	deadline := time.Now().Add(failsafe)
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			r := n.s.Replica(partition)
			if r == nil || r.Status().RaftState.String() != "StateLeader" {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			res, err := n.s.Propose(ctx, partition, cmd)
			cancel()
			if err == nil {
				if res.GetError() != nil {
					t.Fatalf("apply: %v", res.GetError())
				}
				return
			}
			var nl *replica.NotLeaderError
			if !errors.As(err, &nl) && !errors.Is(err, replica.ErrAmbiguous) && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("propose: %v", err)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("proposal never applied")
}

func TestGRPCThreeStoresReplicate(t *testing.T) {
	dir := newDirectory()
	var nodes []*storeNode
	for id := uint64(1); id <= 3; id++ {
		nodes = append(nodes, startStoreNode(t, dir, id))
	}
	const p, writes = 2, 30
	for _, n := range nodes {
		start, end := engine.HashSpan(1, 0, 0)
		if err := n.s.Bootstrap(p, []uint64{1, 2, 3}, &partitapb.Span{Start: start, End: end}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range writes {
		proposeOnLeader(t, nodes, p, counterCommand(fmt.Sprint("w", i)))
	}
	eventually(t, "every replica applies every write", func() bool {
		for _, n := range nodes {
			if counterValue(t, n.eng) != fmt.Sprint(writes) {
				return false
			}
		}
		return true
	})
	for i, n := range nodes {
		m := &node{id: uint64(i + 1), reg: n.reg}
		if m.metric(t, "partita_transport_messages_received_total") == 0 {
			t.Errorf("node %d received no raft message over gRPC", m.id)
		}
	}
}
