package directory_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

func snapshot() *directory.Snapshot {
	return &directory.Snapshot{
		Nodes: []*partitapb.Node{{Id: 2, PeerAddr: "b:7000"}, {Id: 1, PeerAddr: "a:7000"}},
		Tables: []*partitapb.Table{{Name: "t", Partitions: []*partitapb.Partition{
			{Id: 2, Replicas: []uint64{1, 2}}, {Id: 3, Replicas: []uint64{2, 1}},
		}}},
		MetaReplicas: []uint64{1},
	}
}

func TestCacheUpdateAndLookups(t *testing.T) {
	c := directory.NewCache()
	if _, err := c.PeerAddr(1); !errors.Is(err, directory.ErrUnknownNode) {
		t.Fatalf("empty cache PeerAddr: %v", err)
	}
	c.Update(snapshot())
	if addr, err := c.PeerAddr(2); err != nil || addr != "b:7000" {
		t.Fatalf("PeerAddr(2) = %q, %v", addr, err)
	}
	if got := c.Replicas(3); !slices.Equal(got, []uint64{2, 1}) {
		t.Fatalf("Replicas(3) = %v", got)
	}
	if got := c.MetaReplicas(); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("MetaReplicas = %v", got)
	}
	var ids []uint64
	for _, n := range c.Nodes() {
		ids = append(ids, n.GetId())
	}
	if !slices.Equal(ids, []uint64{1, 2}) {
		t.Fatalf("Nodes not sorted by id: %v", ids)
	}
	// A snapshot from a node that knows no nodes or meta voters yet keeps
	// the cached ones; its tables replace the cached tables.
	c.Update(&directory.Snapshot{Tables: []*partitapb.Table{{Name: "u"}}})
	if len(c.Nodes()) != 2 || len(c.MetaReplicas()) != 1 {
		t.Fatalf("an empty snapshot dropped nodes or meta voters: %v %v", c.Nodes(), c.MetaReplicas())
	}
	if s := c.Snapshot(); s.Table("u") == nil || s.Table("t") != nil {
		t.Fatalf("tables after update: %v", s.Tables)
	}
	// A removed node leaves the cache with the next full snapshot.
	c.Update(&directory.Snapshot{Nodes: []*partitapb.Node{{Id: 1, PeerAddr: "a:7000"}}})
	if _, err := c.PeerAddr(2); !errors.Is(err, directory.ErrUnknownNode) {
		t.Fatalf("removed node still resolves: %v", err)
	}
}

func TestCacheHintsAndAddNode(t *testing.T) {
	c := directory.NewCache()
	c.Update(snapshot())
	before := c.Snapshot()
	c.AddNode(&partitapb.Node{Id: 3, PeerAddr: "c:7000"})
	if addr, _ := c.PeerAddr(3); addr != "c:7000" {
		t.Fatalf("AddNode: PeerAddr(3) = %q", addr)
	}
	if before.Node(3) != nil || c.Snapshot().Node(3) == nil {
		t.Fatal("AddNode changed an earlier snapshot or missed the new one: snapshots must be immutable")
	}
	c.SetLeader(2, 1)
	if c.Leader(2) != 1 {
		t.Fatalf("Leader(2) = %d, want 1", c.Leader(2))
	}
	c.SetLeader(2, 0)
	if c.Leader(2) != 0 {
		t.Fatalf("Leader(2) after forgetting = %d", c.Leader(2))
	}
	c.SetReplicas(9, []uint64{3})
	if got := c.Replicas(9); !slices.Equal(got, []uint64{3}) {
		t.Fatalf("SetReplicas: %v", got)
	}
}

func TestSnapshotLookups(t *testing.T) {
	s := snapshot()
	if s.Node(1).GetPeerAddr() != "a:7000" || s.Node(7) != nil {
		t.Fatal("Snapshot.Node")
	}
	if len(s.Partitions()) != 2 || !slices.Equal(s.Replicas(2), []uint64{1, 2}) || !slices.Equal(s.Replicas(directory.MetaPartition), []uint64{1}) {
		t.Fatal("Snapshot.Partitions or Replicas")
	}
	var nilSnap *directory.Snapshot
	if nilSnap.Node(1) != nil || nilSnap.Table("t") != nil || nilSnap.Partitions() != nil || nilSnap.Replicas(1) != nil {
		t.Fatal("a nil snapshot is empty")
	}
}

func TestNodeLiveness(t *testing.T) {
	now := time.Unix(1000, 0)
	at := func(age time.Duration) *partitapb.Node {
		return &partitapb.Node{HeartbeatUnixNanos: now.Add(-age).UnixNano()}
	}
	cases := map[time.Duration]directory.Liveness{
		0: directory.Alive, 3*directory.HeartbeatInterval - 1: directory.Alive,
		3 * directory.HeartbeatInterval: directory.Suspect, 15*directory.HeartbeatInterval - 1: directory.Suspect,
		15 * directory.HeartbeatInterval: directory.Dead,
	}
	for age, want := range cases {
		if got := directory.NodeLiveness(at(age), now); got != want {
			t.Errorf("heartbeat %v old: %s, want %s", age, got, want)
		}
	}
}

// TestCacheForgetsGonePartitions: the replicas and leader hints of a
// partition a later snapshot no longer lists, though it lists a newer one,
// leave the cache (a deleted table, a merge's right half); a partition
// created after the snapshot was read (recorded with SetReplicas) stays.
func TestCacheForgetsGonePartitions(t *testing.T) {
	c := directory.NewCache()
	c.Update(snapshot()) // partitions 2 and 3
	c.SetLeader(2, 1)
	c.SetLeader(3, 2)
	c.SetReplicas(9, []uint64{1}) // created since
	c.SetLeader(9, 1)
	c.Update(&directory.Snapshot{Tables: []*partitapb.Table{{Name: "t", Partitions: []*partitapb.Partition{
		{Id: 3, Replicas: []uint64{2, 1}}, {Id: 5, Replicas: []uint64{1}},
	}}}})
	if got := c.Replicas(2); got != nil || c.Leader(2) != 0 {
		t.Fatalf("partition 2, gone: replicas %v, leader %d", got, c.Leader(2))
	}
	if got := c.Replicas(3); !slices.Equal(got, []uint64{2, 1}) || c.Leader(3) != 2 {
		t.Fatalf("partition 3, listed: replicas %v, leader %d", got, c.Leader(3))
	}
	if got := c.Replicas(9); !slices.Equal(got, []uint64{1}) || c.Leader(9) != 1 {
		t.Fatalf("partition 9, newer than the snapshot: replicas %v, leader %d", got, c.Leader(9))
	}
	if got := c.MetaReplicas(); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("meta voters %v", got)
	}
}
