package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/cluster/clusterpb"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/topology/history"
	"github.com/partitadb/partita/topology/ingest"
	"github.com/partitadb/partita/topology/topologypb"
)

// The topology pipeline's test until the publisher lands: a reporter per
// node builds the node's snapshot from its replicas every interval,
// writes it to a file:// bucket under its history key and reports it over
// the real cluster RPC to the node the nodes report to.

const reportInterval = 200 * time.Millisecond

// reporter stands in for a node's topology publisher.
type reporter struct {
	n       *Node
	bucket  *blob.Bucket
	started time.Time
	stop    chan struct{}
	done    chan struct{}
	last    atomic.Int64 // when the newest snapshot written was taken

	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

func startReporter(t *testing.T, n *Node, b *blob.Bucket) *reporter {
	r := &reporter{n: n, bucket: b, started: time.Now(), stop: make(chan struct{}), done: make(chan struct{}), conns: map[string]*grpc.ClientConn{}}
	go r.run(t)
	t.Cleanup(r.close)
	return r
}

func (r *reporter) close() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.done
	for _, c := range r.conns {
		c.Close()
	}
}

func (r *reporter) run(t *testing.T) {
	defer close(r.done)
	tick := time.NewTicker(reportInterval)
	defer tick.Stop()
	for seq := uint64(1); ; seq++ {
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
		if err := r.report(seq); err != nil {
			t.Logf("node %d report %d: %v", r.n.ID(), seq, err)
		}
	}
}

func (r *reporter) report(seq uint64) error {
	ctx, cancel := context.WithTimeout(context.Background(), reportInterval)
	defer cancel()
	s, err := r.snapshot(ctx, seq)
	if err != nil {
		return err
	}
	data, err := proto.Marshal(s)
	if err != nil {
		return err
	}
	name := history.Name{Node: r.n.ID(), Taken: time.Unix(0, s.UnixNanos), Started: r.started, Seq: seq}
	if err := r.bucket.WriteAll(ctx, name.Key(), data, nil); err != nil {
		return err
	}
	r.last.Store(s.UnixNanos)
	recv := r.n.TopologyReceiver()
	addr, err := r.n.dir.PeerAddr(recv)
	if err != nil {
		return err
	}
	resp, err := clusterpb.NewClusterClient(r.conn(addr)).ReportTopology(ctx, &clusterpb.ReportTopologyRequest{Snapshot: s})
	if err != nil {
		return err
	}
	if e := resp.GetError(); e != nil {
		return fmt.Errorf("node %d: %s", recv, e.Message)
	}
	return nil
}

func (r *reporter) conn(addr string) *grpc.ClientConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.conns[addr]; c != nil {
		return c
	}
	c, _ := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	r.conns[addr] = c
	return c
}

// snapshot is the node's snapshot, from its replicas' raft status.
func (r *reporter) snapshot(ctx context.Context, seq uint64) (*topologypb.TopologySnapshot, error) {
	l, err := r.n.member.Peer().ReplicaStatus(ctx)
	if err != nil {
		return nil, err
	}
	s := &topologypb.TopologySnapshot{
		Version: topologypb.SchemaVersion_SCHEMA_VERSION_1,
		Node: &topologypb.Node{Id: r.n.ID(), Zone: r.n.cfg.Zone, PeerAddr: r.n.PeerAddr(), AdminAddr: r.n.admin.ln.Addr().String(),
			ApiAddr: r.n.api.ln.Addr().String(), BinaryVersion: Version, StartUnixNanos: r.started.UnixNano()},
		Seq: seq, UnixNanos: time.Now().UnixNano(), IntervalNanos: int64(reportInterval),
		Host: &topologypb.Host{Goroutines: uint32(runtime.NumGoroutine())},
	}
	for _, lr := range l.Replicas {
		role := topologypb.Role_ROLE_FOLLOWER
		if lr.Leader {
			role = topologypb.Role_ROLE_LEADER
		}
		s.Replicas = append(s.Replicas, &topologypb.Replica{Partition: lr.Partition, Role: role, Term: lr.Term, Leader: lr.Lead,
			Commit: lr.Applied, Applied: lr.Applied, LogEntries: lr.LogEntries, LogBytes: lr.LogBytes, Voters: lr.Voters, Learners: lr.Learners})
	}
	return s, nil
}

func startIngestMember(t *testing.T, zone string, join ...string) *Node {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr, cfg.Join = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", join
	cfg.Zone, cfg.ReconcileInterval = zone, 100*time.Millisecond
	cfg.Ingest = IngestConfig{Interval: reportInterval, DeadAfter: time.Second}
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// topologyOf asks n's admin endpoint for the cluster view, following the
// redirect to the receiver's.
func topologyOf(t *testing.T, n *Node) admin.TopologyInfo {
	t.Helper()
	resp, err := http.Get(n.AdminURL() + "/cluster/topology")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info admin.TopologyInfo
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /cluster/topology: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	return info
}

func liveness(info admin.TopologyInfo, node uint64) directory.Liveness {
	if n, ok := info.View.Node(node); ok {
		return n.Liveness
	}
	return ""
}

// TestTopologyThreeNodes: three nodes report to the meta leader; one is
// closed; the view marks it suspect, then dead; a replay of the bucket
// before the kill shows it alive.
func TestTopologyThreeNodes(t *testing.T) {
	t.Parallel()
	b, err := blob.OpenBucket(context.Background(), "file://"+t.TempDir()+"?create_dir=1&metadata=skip")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	n1 := startIngestMember(t, "a")
	nodes := []*Node{n1, startIngestMember(t, "b", n1.PeerAddr()), startIngestMember(t, "c", n1.PeerAddr())}
	closed := map[*Node]bool{}
	defer func() {
		for _, n := range nodes {
			if !closed[n] {
				n.Close()
			}
		}
	}()
	waitFor(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	reporters := map[*Node]*reporter{}
	for _, n := range nodes {
		reporters[n] = startReporter(t, n, b)
	}
	waitFor(t, "three alive nodes in the view", func() bool {
		info := topologyOf(t, n1)
		return info.Receiver && len(info.View.Nodes) == 3 && liveness(info, 1) == directory.Alive &&
			liveness(info, 2) == directory.Alive && liveness(info, 3) == directory.Alive
	})
	recv := n1.TopologyReceiver()
	var victim, other *Node
	for _, n := range nodes {
		switch {
		case n.ID() == recv:
		case victim == nil:
			victim = n
		default:
			other = n
		}
	}
	info := topologyOf(t, other) // redirected to the receiver
	if info.Node != recv || !info.Receiver {
		t.Fatalf("view from node %d: built by node %d (receiver %v), want node %d's", other.ID(), info.Node, info.Receiver, recv)
	}
	if p, ok := info.View.Partition(directory.MetaPartition); !ok || p.Leader != recv || len(p.Replicas) != 3 {
		t.Fatalf("meta partition in the view: %+v", p)
	}

	waitFor(t, "a few snapshots of the victim", func() bool {
		n, _ := topologyOf(t, other).View.Node(victim.ID())
		return n.Seq >= 3
	})
	reporters[victim].close()
	lastTaken := time.Unix(0, reporters[victim].last.Load())
	killed := time.Now()
	if err := victim.Close(); err != nil {
		t.Fatal(err)
	}
	closed[victim] = true
	waitFor(t, "the victim suspect", func() bool { return liveness(topologyOf(t, other), victim.ID()) != directory.Alive })
	if d := time.Since(killed); d > 10*reportInterval {
		t.Logf("suspect after %s (two intervals are %s): the machine is slow", d, 2*reportInterval)
	}
	waitFor(t, "the victim dead", func() bool { return liveness(topologyOf(t, other), victim.ID()) == directory.Dead })
	if l := liveness(topologyOf(t, other), other.ID()); l != directory.Alive {
		t.Fatalf("the surviving node is %s", l)
	}

	cfg := ingest.DefaultConfig()
	cfg.Interval, cfg.DeadAfter = reportInterval, time.Second
	rp := ingest.Replay{Bucket: b, Config: cfg, Lookback: time.Minute}
	past, st, err := rp.At(context.Background(), lastTaken)
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := past.Node(victim.ID()); !ok || n.Liveness != directory.Alive {
		t.Fatalf("replay before the kill (%+v): victim %d: %+v, want alive; nodes %+v", st, victim.ID(), n, past.Nodes)
	}
	now, _, err := rp.At(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := now.Node(victim.ID()); n.Liveness != directory.Dead {
		t.Fatalf("replay now: victim %s, want dead", n.Liveness)
	}
}
