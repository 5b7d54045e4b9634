package cluster_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/cluster/clusterpb"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

// unaryGets serves l as node 1 on 127.0.0.1 and counts the unary Get
// calls it serves. With olderStream its ProposeStream is an older
// binary's: a request's get field is dropped on arrival, as a binary
// that does not know it drops it.
func unaryGets(t *testing.T, l cluster.Local, olderStream bool) (b *book, gets, dropped *atomic.Int64) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gets, dropped = new(atomic.Int64), new(atomic.Int64)
	opts := append(transport.ServerOptions(),
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if info.FullMethod == clusterpb.Cluster_Get_FullMethodName {
				gets.Add(1)
			}
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if olderStream {
				ss = dropGets{ss, dropped}
			}
			return h(srv, ss)
		}))
	s := grpc.NewServer(opts...)
	cluster.Register(s, l)
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	b = &book{}
	b.set(1, lis.Addr().String())
	return b, gets, dropped
}

// dropGets is a ProposeStream that loses each request's get field, and
// counts them.
type dropGets struct {
	grpc.ServerStream
	dropped *atomic.Int64
}

func (d dropGets) RecvMsg(m any) error {
	err := d.ServerStream.RecvMsg(m)
	if req, ok := m.(*clusterpb.ProposeStreamRequest); ok && req.Get != nil {
		req.Get = nil
		d.dropped.Add(1)
	}
	return err
}

// readsAnswer checks what c's reads of node 1 answer: a value, an absent
// key, an empty value, and a partition the node has no replica of.
func readsAnswer(t *testing.T, c *cluster.Client) {
	t.Helper()
	ctx := context.Background()
	for _, consistent := range []bool{false, true} {
		if v, err := c.Get(ctx, 1, 1, []byte("k"), consistent); err != nil || string(v) != "v" {
			t.Fatalf("Get k (consistent %v): %q, %v", consistent, v, err)
		}
		if v, err := c.Get(ctx, 1, 1, []byte("absent"), consistent); err != nil || v != nil {
			t.Fatalf("Get of an absent key: %q, %v", v, err)
		}
		if v, err := c.Get(ctx, 1, 1, []byte("empty"), consistent); err != nil || v == nil || len(v) != 0 {
			t.Fatalf("Get of an empty value: %q (nil %v), %v", v, v == nil, err)
		}
		if _, err := c.Get(ctx, 1, 9, []byte("k"), consistent); !errors.Is(err, store.ErrNoReplica) {
			t.Fatalf("Get from a partition with no replica: %v, want ErrNoReplica", err)
		}
	}
}

// TestGetOnTheStream: a node's reads of a peer's replica travel on the
// peer's ProposeStream, as its forwarded writes do, and answer as unary
// Get calls would; no unary Get is made.
func TestGetOnTheStream(t *testing.T) {
	l := newMemLocal(1)
	l.data[1]["k"], l.data[1]["empty"] = []byte("v"), []byte{}
	b, gets, _ := unaryGets(t, l, false)
	c := newClient(t, b)
	readsAnswer(t, c)
	if n := gets.Load(); n != 0 {
		t.Fatalf("%d unary Get calls, want every read on the stream", n)
	}
}

// TestGetFromAnOlderStream: a peer whose ProposeStream serves no reads
// (an older binary) takes a read there for a request without a command
// and refuses it; the reads are then sent as unary Get calls, answering
// the same, and later ones go unary at once (one refused read, not one
// per read).
func TestGetFromAnOlderStream(t *testing.T) {
	l := newMemLocal(1)
	l.data[1]["k"], l.data[1]["empty"] = []byte("v"), []byte{}
	b, gets, dropped := unaryGets(t, l, true)
	c := newClient(t, b)
	readsAnswer(t, c)
	if n := gets.Load(); n != 8 {
		t.Fatalf("%d unary Get calls, want the 8 reads", n)
	}
	if n := dropped.Load(); n != 1 {
		t.Fatalf("%d reads sent on the older stream, want the first only", n)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.data[1]) != 2 {
		t.Fatalf("the refused read wrote: %v", l.data[1])
	}
}
