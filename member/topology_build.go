package member

import (
	"slices"
	"time"

	"go.etcd.io/raft/v3"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/topology"
	"github.com/partitadb/partita/topology/topologypb"
)

// The pure half of the topology producer: a snapshot from readings taken
// at two moments (this interval's and the previous one's), so that it is
// built and tested from data alone.

// TopologyReading is what a node read of itself at one moment.
type TopologyReading struct {
	Node     *partitapb.Node // this node's record: id, zone, addresses, version
	Started  time.Time       // the process's start
	Seq      uint64
	Taken    time.Time
	Dir      *directory.Snapshot // table names and ranges (may be nil)
	Host     HostReading
	Replicas []ReplicaReading
}

// HostReading is the process and its disk at one moment; CPU and fsyncs
// are cumulative since the process started.
type HostReading struct {
	DiskCapacity, DiskUsed uint64 // the data directory's file system
	StoreBytes             uint64
	Fsync                  []FsyncBucket // cumulative
	CPUSeconds             float64       // cumulative user+system
	RSS, Heap              uint64
	Goroutines             int
}

// FsyncBucket is a cumulative bucket of the fsync latency histogram.
type FsyncBucket struct {
	UpperBound time.Duration
	Count      uint64
}

// ReplicaReading is one replica at one moment.
type ReplicaReading struct {
	Partition uint64
	Status    replica.TopologyStatus
	Load      store.Load // cumulative
	Stats     fsm.Stats
	// IndexLag is the age of the oldest change not yet applied to the
	// table's global secondary indexes (TopologyConfig.IndexLag).
	IndexLag time.Duration
}

// BuildSnapshot returns the snapshot of cur, with rates and quantiles over
// the interval since prev (nil: since cur.Started, from zero counts).
func BuildSnapshot(cur *TopologyReading, prev *TopologyReading) *topologypb.TopologySnapshot {
	since, prevHost, prevLoads := cur.Started, HostReading{}, map[uint64]store.Load{}
	if prev != nil {
		since, prevHost = prev.Taken, prev.Host
		for _, r := range prev.Replicas {
			prevLoads[r.Partition] = r.Load
		}
	}
	elapsed := cur.Taken.Sub(since)
	snap := &topologypb.TopologySnapshot{
		Version: topologypb.SchemaVersion_SCHEMA_VERSION_1,
		Node: &topologypb.Node{
			Id: cur.Node.GetId(), Zone: cur.Node.GetZone(), ApiAddr: cur.Node.GetApiAddr(),
			PeerAddr: cur.Node.GetPeerAddr(), AdminAddr: cur.Node.GetAdminAddr(),
			BinaryVersion: cur.Node.GetVersion(), StartUnixNanos: cur.Started.UnixNano(),
		},
		Seq: cur.Seq, UnixNanos: cur.Taken.UnixNano(), IntervalNanos: int64(elapsed),
		Host:     buildHost(cur.Host, prevHost),
		Replicas: make([]*topologypb.Replica, 0, len(cur.Replicas)),
	}
	tables := tablesByPartition(cur.Dir)
	for _, r := range cur.Replicas {
		snap.Replicas = append(snap.Replicas, buildReplica(cur, r, prevLoads[r.Partition], tables[r.Partition], elapsed))
	}
	return snap
}

func buildHost(cur, prev HostReading) *topologypb.Host {
	p50, p99 := fsyncQuantiles(cur.Fsync, prev.Fsync)
	return &topologypb.Host{
		DiskCapacityBytes: cur.DiskCapacity, DiskUsedBytes: cur.DiskUsed, StoreBytes: cur.StoreBytes,
		FsyncP50Nanos: int64(p50), FsyncP99Nanos: int64(p99),
		CpuSeconds: max(0, cur.CPUSeconds-prev.CPUSeconds),
		RssBytes:   cur.RSS, HeapBytes: cur.Heap, Goroutines: uint32(cur.Goroutines),
	}
}

// partitionInfo is what the directory says of a partition.
type partitionInfo struct {
	table string
	rec   *partitapb.Partition
}

func tablesByPartition(dir *directory.Snapshot) map[uint64]partitionInfo {
	out := map[uint64]partitionInfo{directory.MetaPartition: {table: topology.MetaTable}}
	if dir == nil {
		return out
	}
	for _, t := range dir.Tables {
		for _, p := range t.GetPartitions() {
			out[p.GetId()] = partitionInfo{table: t.GetName(), rec: p}
		}
	}
	return out
}

func buildReplica(cur *TopologyReading, r ReplicaReading, prev store.Load, info partitionInfo, elapsed time.Duration) *topologypb.Replica {
	st := r.Status
	out := &topologypb.Replica{
		TableId: info.rec.GetTableId(), Table: info.table, Partition: r.Partition,
		HashStart: info.rec.GetHashStart(), HashEnd: info.rec.GetHashEnd(), Generation: st.Generation,
		Role: role(st), Term: st.Term, Leader: st.Lead, Commit: st.Commit, Applied: st.Applied,
		LogEntries: st.LogEntries, LogBytes: st.LogBytes, PendingSnapshot: st.PendingSnapshot,
		Voters: st.Voters, Learners: st.Learners,
		Load: buildLoad(r.Load, prev, elapsed), IndexLagNanos: int64(r.IndexLag),
	}
	out.Load.Items, out.Load.SizeBytes = uint64(max(0, r.Stats.Items)), uint64(max(0, r.Stats.Bytes))
	for _, f := range st.Followers {
		since := cur.Taken.Sub(cur.Started) // not heard from since this process started
		if !f.LastContact.IsZero() {
			since = max(0, cur.Taken.Sub(f.LastContact))
		}
		out.Followers = append(out.Followers, &topologypb.Progress{
			Node: f.Node, Match: f.Match, SinceContactNanos: int64(since), Learner: f.Learner,
			AckLatencyNanos: int64(f.AckLatency),
		})
	}
	return out
}

func role(st replica.TopologyStatus) topologypb.Role {
	switch {
	case st.State == raft.StateLeader:
		return topologypb.Role_ROLE_LEADER
	case st.Learner:
		return topologypb.Role_ROLE_LEARNER
	case st.State == raft.StateCandidate || st.State == raft.StatePreCandidate:
		return topologypb.Role_ROLE_CANDIDATE
	}
	return topologypb.Role_ROLE_FOLLOWER
}

// buildLoad turns two cumulative readings into the interval's rates. A
// reading below the previous one means the counters restarted (the
// replica was recreated): the interval counts from zero.
func buildLoad(cur, prev store.Load, elapsed time.Duration) *topologypb.Load {
	if cur.Reads < prev.Reads || cur.Writes < prev.Writes {
		prev = store.Load{}
	}
	secs := elapsed.Seconds()
	rate := func(c, p uint64) float64 {
		if secs <= 0 || c < p {
			return 0
		}
		return float64(c-p) / secs
	}
	l := &topologypb.Load{
		ReadsPerSec: rate(cur.Reads, prev.Reads), WritesPerSec: rate(cur.Writes, prev.Writes),
		ReadBytesPerSec: rate(cur.ReadBytes, prev.ReadBytes), WriteBytesPerSec: rate(cur.WriteBytes, prev.WriteBytes),
	}
	var hist [len(cur.Latency)]uint64
	for i := range hist {
		hist[i] = sub(cur.Latency[i], prev.Latency[i])
	}
	l.KeySamples, l.TopKeyShare, l.MedianKeyHash = keySpread(cur.KeyHashes)
	for i, n := range hist {
		if n == 0 {
			continue
		}
		b := &topologypb.LatencyBucket{Count: n}
		if i > 0 {
			b.GtNanos = int64(store.LatencyBounds[i-1])
		}
		if i < len(store.LatencyBounds) {
			b.LeNanos = int64(store.LatencyBounds[i])
		}
		l.Latency = append(l.Latency, b)
	}
	l.LatencyP50Nanos = int64(latencyQuantile(hist[:], 0.50))
	l.LatencyP99Nanos = int64(latencyQuantile(hist[:], 0.99))
	for i, kind := range store.ErrorKinds {
		if n := sub(cur.Errors[i], prev.Errors[i]); n > 0 {
			if l.Errors == nil {
				l.Errors = map[string]uint64{}
			}
			l.Errors[kind] = n
		}
	}
	return l
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// latencyQuantile is the upper bound of the bucket of store.LatencyBounds
// holding quantile q of counts (per bucket); the bucket past the last
// bound reads as that bound. 0 without requests.
func latencyQuantile(counts []uint64, q float64) time.Duration {
	var total uint64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total-1)) + 1
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			return store.LatencyBounds[min(i, len(store.LatencyBounds)-1)]
		}
	}
	return store.LatencyBounds[len(store.LatencyBounds)-1]
}

// fsyncQuantiles are the p50 and p99 of the fsyncs between two cumulative
// histograms with the same bounds (0, 0 when none happened or the bounds
// differ).
func fsyncQuantiles(cur, prev []FsyncBucket) (p50, p99 time.Duration) {
	if len(prev) != 0 && len(prev) != len(cur) {
		return 0, 0
	}
	delta := make([]uint64, len(cur))
	for i, b := range cur {
		delta[i] = b.Count
		if len(prev) > 0 {
			delta[i] = sub(b.Count, prev[i].Count)
		}
	}
	// Cumulative deltas: the last bucket holds the total.
	if len(delta) == 0 || delta[len(delta)-1] == 0 {
		return 0, 0
	}
	at := func(q float64) time.Duration {
		total := delta[len(delta)-1]
		rank := uint64(q*float64(total-1)) + 1
		for i, c := range delta {
			if c >= rank {
				return cur[i].UpperBound
			}
		}
		return cur[len(cur)-1].UpperBound
	}
	return at(0.50), at(0.99)
}

// keySpread sums up sampled key hashes: how many, the share of the most
// frequent, and the median.
func keySpread(hashes []uint64) (n uint32, top float64, median uint64) {
	if len(hashes) == 0 {
		return 0, 0, 0
	}
	sorted := slices.Clone(hashes)
	slices.Sort(sorted)
	most, run := 1, 1
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			run++
		} else {
			run = 1
		}
		most = max(most, run)
	}
	return uint32(len(sorted)), float64(most) / float64(len(sorted)), sorted[len(sorted)/2]
}
