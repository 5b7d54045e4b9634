package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/cluster/clusterpb"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/transport"
)

// TestProposeStreamConcurrentCalls: many writes forwarded at once share
// one stream, and each caller gets its own command's result.
func TestProposeStreamConcurrentCalls(t *testing.T) {
	l := newMemLocal(1)
	_, _, c := serveAsNode1(t, l)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				key, item := fmt.Sprintf("k%d-%d", g, i), fmt.Sprintf("v%d-%d", g, i)
				res, err := c.Propose(context.Background(), 1, 1, put(key, item))
				if err != nil || string(res.GetNewItem()) != item {
					errs <- fmt.Errorf("put %s: got %q, %w", key, res.GetNewItem(), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.data[1]); n != 32*40 {
		t.Fatalf("%d items written, want %d", n, 32*40)
	}
}

// TestProposeStreamCallerLeaves: the receiving node learns the caller's
// deadline, and a caller that stops waiting releases the call there too.
func TestProposeStreamCallerLeaves(t *testing.T) {
	l := newMemLocal(1)
	l.block = true
	_, _, c := serveAsNode1(t, l)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.Propose(ctx, 1, 1, put("k", "v")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Propose past its deadline: %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), time.Hour)
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := c.Propose(ctx, 1, 1, put("k", "v")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Propose cancelled by its caller: %v", err)
	}
	waitFor(t, "both calls released on the receiving node", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.released) == 2
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.deadline[0] > 200*time.Millisecond || l.deadline[0] <= 0 {
		t.Errorf("the first call had %v left on the receiving node, want at most the caller's 200ms", l.deadline[0])
	}
	if l.deadline[1] < 50*time.Minute {
		t.Errorf("the second call had %v left on the receiving node, want about the caller's hour", l.deadline[1])
	}
}

// TestProposeStreamPeerStops: the calls waiting on a stream whose peer
// stops fail as unreachable, and the next call opens a new stream to the
// peer at its new address.
func TestProposeStreamPeerStops(t *testing.T) {
	l := newMemLocal(1)
	l.block = true
	srv, b, c := serveAsNode1(t, l)
	done := make(chan error, 1)
	go func() {
		_, err := c.Propose(context.Background(), 1, 1, put("k", "v"))
		done <- err
	}()
	waitFor(t, "the call to reach the peer", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.deadline) == 1
	})
	srv.stop()
	select {
	case err := <-done:
		if !errors.Is(err, cluster.ErrUnreachable) {
			t.Fatalf("a call whose peer stopped: %v, want ErrUnreachable", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a call whose peer stopped still waits")
	}
	l2 := newMemLocal(1)
	b.set(1, serve(t, "127.0.0.1:0", l2).addr)
	if _, err := c.Propose(context.Background(), 1, 1, put("k", "v")); err != nil {
		t.Fatalf("Propose to the restarted peer: %v", err)
	}
}

// unaryOnly is a node of an older binary: its Cluster service has no
// ProposeStream.
type unaryOnly struct {
	clusterpb.UnimplementedClusterServer
	l *memLocal
}

func (u unaryOnly) Propose(ctx context.Context, req *clusterpb.ProposeRequest) (*clusterpb.ProposeResponse, error) {
	res, err := u.l.Propose(ctx, req.GetPartition(), req.GetCommand())
	if err != nil {
		return nil, err
	}
	return &clusterpb.ProposeResponse{Result: res}, nil
}

// TestProposeStreamOlderPeer: a peer that serves no ProposeStream is sent
// unary calls, and every write arrives once.
func TestProposeStreamOlderPeer(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(transport.ServerOptions()...)
	l := newMemLocal(1)
	clusterpb.RegisterClusterServer(s, unaryOnly{l: l})
	go s.Serve(lis)
	defer s.Stop()
	var b book
	b.set(1, lis.Addr().String())
	c := newClient(t, &b)
	for i := range 5 {
		item := fmt.Sprintf("v%d", i)
		res, err := c.Propose(context.Background(), 1, 1, put(fmt.Sprintf("k%d", i), item))
		if err != nil || string(res.GetNewItem()) != item {
			t.Fatalf("Propose %d to an older peer: %v, %v", i, res, err)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.data[1]); n != 5 {
		t.Fatalf("%d items written through an older peer, want 5", n)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// BenchmarkForwardedPropose forwards small puts from 16 goroutines to a
// peer on 127.0.0.1 that applies them in memory: on the stream, and as
// unary calls to a peer of an older binary. cpu-ns/op is the process's
// CPU (both ends) per write.
func BenchmarkForwardedPropose(b *testing.B) {
	for _, mode := range []string{"stream", "unary"} {
		b.Run(mode, func(b *testing.B) {
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			s := grpc.NewServer(transport.ServerOptions()...)
			l := newMemLocal(1)
			if mode == "stream" {
				cluster.Register(s, l)
			} else {
				clusterpb.RegisterClusterServer(s, unaryOnly{l: l})
			}
			go s.Serve(lis)
			defer s.Stop()
			var bk book
			bk.set(1, lis.Addr().String())
			c, err := cluster.NewClient(cluster.Config{Resolve: bk.resolve})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			cmd := func(i int) *partitapb.Command { return put(fmt.Sprintf("k%d", i%1024), "0123456789abcdef") }
			if _, err := c.Propose(context.Background(), 1, 1, cmd(0)); err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(8)
			start := processCPU(b)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					if _, err := c.Propose(context.Background(), 1, 1, cmd(i)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestProposeStreamCarriesTraceParent: a forwarded write's (and read's)
// context on the receiving node has the caller's span as its remote
// parent, sampled as the caller's is, so that the leader's spans join the
// request's trace (and start none for an unsampled one); without a
// caller's span, none.
func TestProposeStreamCarriesTraceParent(t *testing.T) {
	l := newMemLocal(1)
	_, _, c := serveAsNode1(t, l)
	span := func(sampled bool) trace.SpanContext {
		cfg := trace.SpanContextConfig{
			TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
			SpanID:  trace.SpanID{8, 7, 6, 5, 4, 3, 2, 1},
		}
		if sampled {
			cfg.TraceFlags = trace.FlagsSampled
		}
		return trace.NewSpanContext(cfg)
	}
	callers := []trace.SpanContext{span(true), span(false), {}}
	for i, sc := range callers {
		ctx := context.Background()
		if sc.IsValid() {
			ctx = trace.ContextWithSpanContext(ctx, sc)
		}
		if _, err := c.Propose(ctx, 1, 1, put(fmt.Sprintf("k%d", i), "v")); err != nil {
			t.Fatal(err)
		}
	}
	// Forwarded reads carry it too.
	ctx := trace.ContextWithSpanContext(context.Background(), callers[0])
	if _, err := c.Get(ctx, 1, 1, []byte("k0"), true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Walk(ctx, 1, cluster.WalkRequest{Partition: 1}); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.readers) != 2 {
		t.Fatalf("%d reads seen, want 2", len(l.readers))
	}
	for i, got := range l.readers {
		if got.TraceID() != callers[0].TraceID() || got.SpanID() != callers[0].SpanID() || !got.IsSampled() || !got.IsRemote() {
			t.Errorf("read %d: the receiver's parent %+v, want the caller's %+v, remote", i, got, callers[0])
		}
	}
	if len(l.parents) != len(callers) {
		t.Fatalf("%d proposals seen, want %d", len(l.parents), len(callers))
	}
	for i, want := range callers {
		got := l.parents[i]
		if !want.IsValid() {
			if got.IsValid() {
				t.Errorf("call %d without a span: the receiver got parent %v", i, got)
			}
			continue
		}
		if got.TraceID() != want.TraceID() || got.SpanID() != want.SpanID() || got.IsSampled() != want.IsSampled() || !got.IsRemote() {
			t.Errorf("call %d: the receiver's parent %+v, want the caller's %+v, remote", i, got, want)
		}
	}
}
