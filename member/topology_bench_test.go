package member_test

import (
	"fmt"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/member"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
)

// readings returns two realistic readings of a node with n replicas, a
// third of them leaders of three-voter groups, all loaded, 5 s apart.
func readings(n int) (prev, cur *member.TopologyReading) {
	t0 := time.Unix(1764777600, 0)
	dir := &directory.Snapshot{}
	for tbl := range n / 50 {
		t := &partitapb.Table{Id: uint64(tbl + 1), Name: fmt.Sprintf("table-%04d", tbl)}
		for p := range 50 {
			t.Partitions = append(t.Partitions, &partitapb.Partition{Id: uint64(2 + tbl*50 + p), TableId: t.Id,
				HashStart: uint64(p) << 50, HashEnd: uint64(p+1) << 50, RangeGeneration: 1, Replicas: []uint64{1, 2, 3}})
		}
		dir.Tables = append(dir.Tables, t)
	}
	fsync := make([]member.FsyncBucket, 100)
	for i := range fsync {
		fsync[i] = member.FsyncBucket{UpperBound: time.Duration(i+1) * 100 * time.Microsecond, Count: uint64(i * 10)}
	}
	read := func(taken time.Time, scale uint64) *member.TopologyReading {
		r := &member.TopologyReading{Node: &partitapb.Node{Id: 1, Zone: "a", ApiAddr: "10.0.0.1:8000", PeerAddr: "10.0.0.1:7000", Version: "0.1.0"},
			Started: t0.Add(-time.Hour), Seq: scale, Taken: taken, Dir: dir,
			Host: member.HostReading{CPUSeconds: float64(scale), Fsync: fsync, RSS: 1 << 30, Heap: 1 << 29, Goroutines: 300}}
		for i := range n {
			var lat [len(store.LatencyBounds) + 1]uint64
			lat[3], lat[6], lat[10] = 900*scale, 90*scale, 10*scale
			var errs [len(store.ErrorKinds)]uint64
			errs[0] = scale
			st := replica.TopologyStatus{State: raft.StateFollower, Term: 7, Lead: 2, Commit: 1000 * scale, Applied: 1000 * scale,
				LogEntries: 200, LogBytes: 200 << 10, Voters: []uint64{1, 2, 3}, Generation: 1}
			if i%3 == 0 {
				st.State, st.Lead = raft.StateLeader, 1
				st.Followers = []replica.FollowerStatus{{Node: 2, Match: 999 * scale, LastContact: taken.Add(-50 * time.Millisecond)},
					{Node: 3, Match: 998 * scale, LastContact: taken.Add(-80 * time.Millisecond)}}
			}
			r.Replicas = append(r.Replicas, member.ReplicaReading{Partition: uint64(2 + i), Status: st,
				Load:  store.Load{Reads: 5000 * scale, Writes: 1000 * scale, ReadBytes: 5 << 20 * scale, WriteBytes: 1 << 20 * scale, Latency: lat, Errors: errs},
				Stats: fsm.Stats{Items: 100_000, Bytes: 50 << 20}})
		}
		return r
	}
	return read(t0, 1), read(t0.Add(5*time.Second), 2)
}

// BenchmarkTopologySnapshot1000Replicas is the publishing cost of one
// snapshot of a node with 1,000 replicas: building it from readings and
// encoding it (what the "topology" job does besides reading the node).
func BenchmarkTopologySnapshot1000Replicas(b *testing.B) {
	prev, cur := readings(1000)
	var size int
	b.ReportAllocs()
	for b.Loop() {
		raw, err := proto.Marshal(member.BuildSnapshot(cur, prev))
		if err != nil {
			b.Fatal(err)
		}
		size = len(raw)
	}
	b.ReportMetric(float64(size), "bytes/snapshot")
}

// BenchmarkTakeTopology1000Replicas takes snapshots of a real store
// hosting 1,000 replicas (raft status, load counters, partition
// statistics, engine and process figures), encoded.
func BenchmarkTakeTopology1000Replicas(b *testing.B) {
	h := newHarness(b)
	for i := range 999 {
		if err := h.st.Bootstrap(uint64(100+i), []uint64{1}, directory.MetaSpans()[0]); err != nil {
			b.Fatal(err)
		}
	}
	prod, err := h.m.NewTopologyProducer(member.TopologyConfig{Started: time.Now(), DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	var size int
	b.ReportAllocs()
	for b.Loop() {
		snap := prod.Take()
		if len(snap.GetReplicas()) != 1000 {
			b.Fatalf("%d replicas", len(snap.GetReplicas()))
		}
		raw, err := proto.Marshal(snap)
		if err != nil {
			b.Fatal(err)
		}
		size = len(raw)
	}
	b.ReportMetric(float64(size), "bytes/snapshot")
}
