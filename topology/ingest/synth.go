package ingest

import (
	"fmt"
	"time"

	"github.com/partitadb/partita/topology/topologypb"
)

// Synthetic describes a made-up cluster whose snapshots tests, fuzz seeds
// and the ingest benchmark use: Nodes nodes in three zones, each hosting
// Replicas replicas of partitions spread over the nodes three by three.
type Synthetic struct {
	Nodes    int
	Replicas int
	Interval time.Duration
	Start    time.Time // the processes' start and the first snapshot's time
}

// Snapshot is node's snapshot number seq (from 1), taken Interval after
// the previous one. Node 1 leads its partitions; indexes grow with seq.
func (g Synthetic) Snapshot(node, seq uint64) *topologypb.TopologySnapshot {
	taken := g.Start.Add(time.Duration(seq) * g.Interval)
	s := &topologypb.TopologySnapshot{
		Version: topologypb.SchemaVersion_SCHEMA_VERSION_1,
		Node: &topologypb.Node{
			Id: node, Zone: fmt.Sprintf("zone-%d", node%3), ApiAddr: fmt.Sprintf("10.0.%d.%d:8000", node/250, node%250),
			PeerAddr: fmt.Sprintf("10.0.%d.%d:7000", node/250, node%250), AdminAddr: fmt.Sprintf("10.0.%d.%d:9000", node/250, node%250),
			BinaryVersion: "0.1.0", StartUnixNanos: g.Start.UnixNano(),
		},
		Seq: seq, UnixNanos: taken.UnixNano(), IntervalNanos: int64(g.Interval),
		Host: &topologypb.Host{
			DiskCapacityBytes: 1 << 40, DiskUsedBytes: 1<<38 + seq<<20, StoreBytes: 1<<37 + seq<<20,
			FsyncP50Nanos: 400_000, FsyncP99Nanos: 2_000_000 + int64(node%7)*100_000, CpuSeconds: 1.5,
			RssBytes: 2 << 30, HeapBytes: 1 << 30, Goroutines: 900,
		},
	}
	for i := range g.Replicas {
		s.Replicas = append(s.Replicas, g.replica(node, seq, uint64(i)))
	}
	return s
}

// replica is node's i-th replica: partition (node-1)*Replicas+i+2 (2 on:
// 1 is the meta partition), which node leads.
func (g Synthetic) replica(node, seq, i uint64) *topologypb.Replica {
	part := (node-1)*uint64(g.Replicas) + i + 2
	peers := []uint64{node, node%uint64(g.Nodes) + 1, (node+1)%uint64(g.Nodes) + 1}
	r := &topologypb.Replica{
		TableId: 1 + part%10, Table: fmt.Sprintf("table-%d", part%10), Partition: part,
		HashStart: part << 40, HashEnd: (part + 1) << 40, Generation: 1,
		Role: topologypb.Role_ROLE_LEADER, Term: 3, Leader: node, Commit: 1000 * seq, Applied: 1000*seq - 3,
		LogEntries: 4096, LogBytes: 4 << 20, Voters: peers,
		Load: &topologypb.Load{
			ReadsPerSec: 120, WritesPerSec: 40, ReadBytesPerSec: 120 * 900, WriteBytesPerSec: 40 * 1100,
			LatencyP50Nanos: 900_000, LatencyP99Nanos: 4_000_000, Errors: map[string]uint64{"ConditionalCheckFailed": 2},
			Items: 100_000 + seq, SizeBytes: 90_000_000 + seq*1000,
		},
	}
	for _, f := range peers[1:] {
		r.Followers = append(r.Followers, &topologypb.Progress{Node: f, Match: r.Commit - 2, SinceContactNanos: 50_000_000})
	}
	return r
}
