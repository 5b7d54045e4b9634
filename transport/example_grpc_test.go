package transport_test

import (
	"fmt"
	"log"
	"net"
	"sync"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/partitadb/partita/transport"
)

// printer is a Handler that prints what it receives.
type printer struct{ wg *sync.WaitGroup }

func (p printer) HandleRaft(msgs []transport.Message) {
	for _, m := range msgs {
		fmt.Printf("partition %d: %s from %d\n", m.Partition, m.Raft.Type, m.Raft.From)
		p.wg.Done()
	}
}

// Each node makes one GRPC transport, serves its receiving side on its
// peer address, and sends through it. A node's store is both the Handler
// given to Serve (or Register) and the user of the transport.
func ExampleNewGRPC() {
	addrs := map[uint64]string{}
	resolve := func(id uint64) (string, error) { return addrs[id], nil } // the directory's job
	var wg sync.WaitGroup
	var nodes []*transport.GRPC
	for id := uint64(1); id <= 2; id++ {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		addrs[id] = lis.Addr().String()
		cfg := transport.DefaultConfig()
		cfg.NodeID, cfg.Resolve = id, resolve
		tr, err := transport.NewGRPC(cfg)
		if err != nil {
			log.Fatal(err)
		}
		go tr.Serve(lis, printer{&wg})
		nodes = append(nodes, tr)
	}
	wg.Add(1)
	nodes[0].Send(2, []transport.Message{{Partition: 7, Raft: raftpb.Message{Type: raftpb.MsgHeartbeat, From: 1, To: 2}}})
	wg.Wait()
	for _, tr := range nodes {
		tr.Close()
	}
	// Output: partition 7: MsgHeartbeat from 1
}
