package member_test

import (
	"context"
	"testing"
	"time"

	"go.etcd.io/raft/v3"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/member"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/topology/topologypb"
)

// keyIn returns a data key of table whose partition key hashes into p.
func keyIn(t *testing.T, p *partitapb.Partition, n int) []byte {
	t.Helper()
	for i := 0; ; i++ {
		pk := item.S(string(rune('a'+n%26)) + string(rune('0'+i%10)) + string(rune('a'+i/10%26)) + string(rune('a'+i/260%26)))
		h := item.Hash(pk)
		if h >= p.GetHashStart() && (p.GetHashEnd() == 0 || h < p.GetHashEnd()) {
			k, err := engine.DataKey(nil, p.GetTableId(), pk, item.Value{})
			if err != nil {
				t.Fatal(err)
			}
			return append(k, byte(n)) // distinct keys for distinct n
		}
	}
}

// The producer's snapshot of a real single-node store: its replicas, their
// roles and progress, and the load of the writes and reads just served.
func TestTopologySnapshotOfARealStore(t *testing.T) {
	h := newHarness(t)
	if _, err := h.m.Join(context.Background(), &partitapb.Node{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	h.m.SetRecord(&partitapb.Node{Id: 1, ApiAddr: "api:1", PeerAddr: "peer:1", Zone: "z1", Version: "test"})
	started := time.Now().Add(-time.Second)
	prod, err := h.m.NewTopologyProducer(member.TopologyConfig{Started: started, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	parts := h.createTable(t, "orders")
	h.reconcile(t)
	h.waitLeaders(t, parts...)
	part := h.sender.Directory().Snapshot().Table("orders").GetPartitions()[0]
	for i := range 10 {
		k := keyIn(t, part, i)
		cmd := &partitapb.Command{Id: []byte{byte(i), 'w'}, Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{
			Key: k, Item: item.EncodeItem(item.Item{"pk": item.S("x"), "v": item.S("0123456789")}),
		}}}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if _, err := h.st.Propose(ctx, part.GetId(), cmd); err != nil {
			t.Fatal(err)
		}
		if _, err := h.st.Get(ctx, part.GetId(), k, true); err != nil {
			t.Fatal(err)
		}
		cancel()
	}

	snap := prod.Take()
	if snap.GetSeq() != 1 || snap.GetNode().GetId() != 1 || snap.GetNode().GetZone() != "z1" || snap.GetNode().GetApiAddr() != "api:1" ||
		snap.GetNode().GetStartUnixNanos() != started.UnixNano() || snap.GetVersion() != topologypb.SchemaVersion_SCHEMA_VERSION_1 {
		t.Fatalf("snapshot header %v", snap)
	}
	host := snap.GetHost()
	if host.GetStoreBytes() == 0 || host.GetGoroutines() == 0 || host.GetHeapBytes() == 0 || host.GetDiskCapacityBytes() == 0 {
		t.Fatalf("host %v lacks figures", host)
	}
	if len(snap.GetReplicas()) != 3 { // meta + 2 partitions
		t.Fatalf("%d replicas, want 3: %v", len(snap.GetReplicas()), snap.GetReplicas())
	}
	var got *topologypb.Replica
	for _, r := range snap.GetReplicas() {
		if r.GetRole() != topologypb.Role_ROLE_LEADER || r.GetLeader() != 1 || r.GetApplied() == 0 || r.GetCommit() < r.GetApplied() ||
			r.GetTerm() == 0 || len(r.GetVoters()) != 1 || r.GetVoters()[0] != 1 {
			t.Fatalf("replica %v: want the leader with progress", r)
		}
		if r.GetPartition() == part.GetId() {
			got = r
		}
	}
	if got.GetTable() != "orders" || got.GetTableId() != part.GetTableId() || got.GetHashStart() != part.GetHashStart() ||
		got.GetHashEnd() != part.GetHashEnd() || got.GetGeneration() != part.GetRangeGeneration() {
		t.Fatalf("replica %v does not describe partition %v", got, part)
	}
	load := got.GetLoad()
	if load.GetWritesPerSec() <= 0 || load.GetReadsPerSec() <= 0 || load.GetWriteBytesPerSec() <= 0 || load.GetReadBytesPerSec() <= 0 ||
		load.GetLatencyP50Nanos() <= 0 || load.GetLatencyP99Nanos() < load.GetLatencyP50Nanos() {
		t.Fatalf("load %v after 10 writes and 10 reads", load)
	}
	if load.GetItems() != 10 || load.GetSizeBytes() == 0 {
		t.Fatalf("load %v: want the partition's 10 items and their size", load)
	}

	// The next interval saw no traffic.
	next := prod.Take()
	for _, r := range next.GetReplicas() {
		if r.GetPartition() == part.GetId() && (r.GetLoad().GetWritesPerSec() != 0 || r.GetLoad().GetItems() != 10) {
			t.Fatalf("idle interval: load %v", r.GetLoad())
		}
	}
	if next.GetSeq() != 2 || next.GetIntervalNanos() <= 0 {
		t.Fatalf("second snapshot seq %d interval %d", next.GetSeq(), next.GetIntervalNanos())
	}
}

// BuildSnapshot from data: rates over the interval, restarted counters,
// errors by kind, latency quantiles, fsync quantiles and followers.
func TestBuildSnapshotFromReadings(t *testing.T) {
	t0 := time.Unix(1764777600, 0)
	lat := func(fast, slow uint64) (h [len(store.LatencyBounds) + 1]uint64) {
		h[0], h[8] = fast, slow // <= 100µs, <= 50ms
		return h
	}
	prev := &member.TopologyReading{
		Node: &partitapb.Node{Id: 4}, Started: t0.Add(-time.Hour), Seq: 1, Taken: t0,
		Host: member.HostReading{CPUSeconds: 10, Fsync: []member.FsyncBucket{{time.Millisecond, 100}, {10 * time.Millisecond, 100}}},
		Replicas: []member.ReplicaReading{
			{Partition: 7, Load: store.Load{Reads: 100, Writes: 50, ReadBytes: 1000, Latency: lat(150, 0)}},
			{Partition: 8, Load: store.Load{Reads: 1000, Writes: 1000}},
		},
	}
	var errs [len(store.ErrorKinds)]uint64
	errs[0] = 3
	cur := &member.TopologyReading{
		Node: &partitapb.Node{Id: 4}, Started: t0.Add(-time.Hour), Seq: 2, Taken: t0.Add(5 * time.Second),
		Host: member.HostReading{CPUSeconds: 12.5, Fsync: []member.FsyncBucket{{time.Millisecond, 160}, {10 * time.Millisecond, 200}}},
		Replicas: []member.ReplicaReading{
			{Partition: 7, Load: store.Load{Reads: 600, Writes: 100, ReadBytes: 6000, Latency: lat(150+500, 50), Errors: errs},
				Stats: fsm.Stats{Items: 3, Bytes: 300}, IndexLag: 2 * time.Second,
				Status: replica.TopologyStatus{State: raft.StateLeader, Lead: 4, Voters: []uint64{4, 5}, Followers: []replica.FollowerStatus{
					{Node: 5, Match: 9, LastContact: t0.Add(4 * time.Second)}, {Node: 6, Learner: true},
				}}},
			{Partition: 8, Load: store.Load{Reads: 10}, Status: replica.TopologyStatus{State: raft.StateFollower, Learner: true}},
		},
	}
	snap := member.BuildSnapshot(cur, prev)
	if snap.GetIntervalNanos() != int64(5*time.Second) || snap.GetHost().GetCpuSeconds() != 2.5 {
		t.Fatalf("interval %d cpu %v", snap.GetIntervalNanos(), snap.GetHost().GetCpuSeconds())
	}
	if h := snap.GetHost(); h.GetFsyncP50Nanos() != int64(time.Millisecond) || h.GetFsyncP99Nanos() != int64(10*time.Millisecond) {
		t.Fatalf("fsync p50 %v p99 %v: 60 fast and 40 slow fsyncs in the interval", h.GetFsyncP50Nanos(), h.GetFsyncP99Nanos())
	}
	r7, r8 := snap.GetReplicas()[0], snap.GetReplicas()[1]
	l := r7.GetLoad()
	if l.GetReadsPerSec() != 100 || l.GetWritesPerSec() != 10 || l.GetReadBytesPerSec() != 1000 || l.GetItems() != 3 || l.GetSizeBytes() != 300 {
		t.Fatalf("partition 7 load %v", l)
	}
	if l.GetLatencyP50Nanos() != int64(100*time.Microsecond) || l.GetLatencyP99Nanos() != int64(50*time.Millisecond) {
		t.Fatalf("partition 7 latency p50 %v p99 %v", l.GetLatencyP50Nanos(), l.GetLatencyP99Nanos())
	}
	// The interval's histogram, its non-empty buckets: 500 fast, 50 slow.
	if b := l.GetLatency(); len(b) != 2 || b[0].GetGtNanos() != 0 || b[0].GetLeNanos() != int64(100*time.Microsecond) || b[0].GetCount() != 500 ||
		b[1].GetGtNanos() != int64(25*time.Millisecond) || b[1].GetLeNanos() != int64(50*time.Millisecond) || b[1].GetCount() != 50 {
		t.Fatalf("partition 7 latency buckets %v", b)
	}
	if r7.GetIndexLagNanos() != int64(2*time.Second) || r8.GetIndexLagNanos() != 0 {
		t.Fatalf("index lags %v, %v", r7.GetIndexLagNanos(), r8.GetIndexLagNanos())
	}
	if l.GetErrors()["not_leader"] != 3 || len(l.GetErrors()) != 1 {
		t.Fatalf("partition 7 errors %v", l.GetErrors())
	}
	if r7.GetRole() != topologypb.Role_ROLE_LEADER || len(r7.GetFollowers()) != 2 ||
		r7.GetFollowers()[0].GetSinceContactNanos() != int64(time.Second) || r7.GetFollowers()[0].GetMatch() != 9 ||
		!r7.GetFollowers()[1].GetLearner() || r7.GetFollowers()[1].GetSinceContactNanos() != int64(time.Hour+5*time.Second) {
		t.Fatalf("partition 7 %v", r7)
	}
	// Partition 8's counters restarted (10 < 1000): the interval counts from 0.
	if r8.GetLoad().GetReadsPerSec() != 2 || r8.GetRole() != topologypb.Role_ROLE_LEARNER {
		t.Fatalf("partition 8 %v", r8)
	}
	// The first snapshot covers the time since the process started.
	first := member.BuildSnapshot(prev, nil)
	if first.GetIntervalNanos() != int64(time.Hour) {
		t.Fatalf("first interval %v", first.GetIntervalNanos())
	}
}
