package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

// grpcCluster is three stores on real engines joined by gRPC transports
// on loopback ports: a node's wiring, without the rest of the node.
type grpcCluster struct {
	stores []*store.Store
}

func newGRPCCluster(b *testing.B) *grpcCluster {
	b.Helper()
	var mu sync.Mutex
	addrs := map[uint64]string{}
	resolve := func(id uint64) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if a, ok := addrs[id]; ok {
			return a, nil
		}
		return "", fmt.Errorf("node %d unknown", id)
	}
	c := &grpcCluster{}
	for id := uint64(1); id <= 3; id++ {
		eng, err := engine.Open(engine.Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		cfg := store.DefaultConfig()
		cfg.NodeID, cfg.Engine = id, eng
		s, err := store.NewStore(cfg)
		if err != nil {
			b.Fatal(err)
		}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		addrs[id] = lis.Addr().String()
		mu.Unlock()
		tcfg := transport.DefaultConfig()
		tcfg.NodeID, tcfg.Resolve, tcfg.Logger = id, resolve, slog.New(slog.DiscardHandler)
		tr, err := transport.NewGRPC(tcfg)
		if err != nil {
			b.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- tr.Serve(lis, s) }()
		s.Start(tr)
		b.Cleanup(func() {
			s.Stop()
			_ = tr.Close()
			<-served
			_ = eng.Close()
		})
		c.stores = append(c.stores, s)
	}
	for _, s := range c.stores {
		if err := s.Bootstrap(leaseP, []uint64{1, 2, 3}, tableSpan()); err != nil {
			b.Fatal(err)
		}
	}
	return c
}

// BenchmarkConsistentGet reads one item with strongly consistent Gets on
// the leader of a three-replica partition whose stores talk gRPC over
// loopback, with leader leases and without (raft.lease-reads off: a
// ReadIndex round trip each), from GOMAXPROCS goroutines and from 16 times as many. cpu-ns/op is the
// whole process's CPU (all three stores) per read.
func BenchmarkConsistentGet(b *testing.B) {
	c := newGRPCCluster(b)
	k, _ := engine.DataKey(nil, 1, item.S("counter"), item.Value{})
	var leader *store.Store
	deadline := time.Now().Add(10 * time.Second)
	for leader == nil && time.Now().Before(deadline) {
		for _, s := range c.stores {
			if r := s.Replica(leaseP); r != nil && r.Status().RaftState.String() == "StateLeader" {
				leader = s
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if leader == nil {
		b.Fatal("no leader")
	}
	ctx := context.Background()
	for _, clients := range []int{1, 16} {
		for _, lease := range []bool{true, false} {
			b.Run(fmt.Sprintf("parallelism=%d/lease=%v", clients, lease), func(b *testing.B) {
				leader.SetLeaseReads(lease)
				if _, err := leader.Get(ctx, leaseP, k, true); err != nil {
					b.Fatal(err)
				}
				b.SetParallelism(clients)
				cpu := cpuTime(b)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := leader.Get(ctx, leaseP, k, true); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
