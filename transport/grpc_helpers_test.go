package transport_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/partitadb/partita/transport"
)

// failsafe bounds every wait of a test in real time, so that a broken
// transport fails a test instead of hanging it.
const failsafe = 20 * time.Second

// directory maps node ids to peer addresses; tests change it to move
// nodes.
type directory struct {
	mu    sync.Mutex
	addrs map[uint64]string
}

func newDirectory() *directory { return &directory{addrs: make(map[uint64]string)} }

func (d *directory) set(id uint64, addr string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.addrs[id] = addr
}

func (d *directory) resolve(id uint64) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a, ok := d.addrs[id]; ok {
		return a, nil
	}
	return "", fmt.Errorf("node %d unknown", id)
}

// node is one GRPC transport serving on a loopback port, with its own
// metrics registry.
type node struct {
	id    uint64
	addr  string
	tr    *transport.GRPC
	reg   *prometheus.Registry
	serve chan error
}

// startNode starts node id serving h on addr ("" picks a free port) and
// records its address in dir. The node is closed when the test ends.
func startNode(t *testing.T, dir *directory, id uint64, addr string, h transport.Handler, tweak ...func(*transport.Config)) *node {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{id: id, addr: lis.Addr().String(), reg: prometheus.NewRegistry(), serve: make(chan error, 1)}
	cfg := testConfig(id, dir, n.reg)
	for _, f := range tweak {
		f(&cfg)
	}
	n.tr, err = transport.NewGRPC(cfg)
	if err != nil {
		lis.Close()
		t.Fatal(err)
	}
	dir.set(id, n.addr)
	go func() { n.serve <- n.tr.Serve(lis, h) }()
	t.Cleanup(func() { n.close(t) })
	return n
}

func testConfig(id uint64, dir *directory, reg prometheus.Registerer) transport.Config {
	cfg := transport.DefaultConfig()
	cfg.NodeID, cfg.Resolve, cfg.Registerer = id, dir.resolve, reg
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.DialTimeout, cfg.BackoffMin, cfg.BackoffMax = time.Second, 10*time.Millisecond, 100*time.Millisecond
	return cfg
}

// close closes the node's transport and checks that Serve returned
// cleanly; closing twice is harmless.
func (n *node) close(t *testing.T) {
	t.Helper()
	if n.serve == nil {
		return
	}
	if err := n.tr.Close(); err != nil {
		t.Errorf("node %d: Close: %v", n.id, err)
	}
	select {
	case err := <-n.serve:
		if err != nil && !errors.Is(err, transport.ErrClosed) {
			t.Errorf("node %d: Serve: %v", n.id, err)
		}
	case <-time.After(failsafe):
		t.Errorf("node %d: Serve did not return after Close", n.id)
	}
	n.serve = nil
}

// metric sums the values of a counter family of n's registry whose
// labels include the given name/value pairs.
func (n *node) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := n.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
				}
				if !found {
					continue next
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// recorder is a Handler that keeps every batch it receives.
type recorder struct {
	mu      sync.Mutex
	batches [][]transport.Message
	gate    chan struct{} // if set, HandleRaft waits for it to close
}

func (r *recorder) HandleRaft(msgs []transport.Message) {
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, msgs)
}

// messages returns every message received, in order.
func (r *recorder) messages() []transport.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []transport.Message
	for _, b := range r.batches {
		out = append(out, b...)
	}
	return out
}

// largestBatch is the size of the largest batch received.
func (r *recorder) largestBatch() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, b := range r.batches {
		n = max(n, len(b))
	}
	return n
}

// msg is a heartbeat-like message whose index tells messages apart.
func msg(partition, from, to, index uint64) transport.Message {
	return transport.Message{Partition: partition, Raft: raftpb.Message{
		Type: raftpb.MsgApp, From: from, To: to, Term: 1, Index: index,
		Entries: []raftpb.Entry{{Term: 1, Index: index + 1, Data: []byte(fmt.Sprint("entry ", index))}},
	}}
}

// eventually polls cond until it holds or the failsafe expires.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(failsafe)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
