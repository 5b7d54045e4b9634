package gate_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/gate"
)

// BenchmarkAdmit judges one operation against a view of 100 nodes and
// 10,000 partitions with 8 operations in flight: the loop calls Admit
// for every operation of a plan.
func BenchmarkAdmit(b *testing.B) {
	var v checker.View
	for id := uint64(1); id <= 100; id++ {
		v.Nodes = append(v.Nodes, checker.Node{ID: id, Zone: fmt.Sprint("z", id%3), PeerAddr: "x",
			Liveness: directory.Alive, Since: epoch.Add(-time.Hour)})
	}
	for id := uint64(1); id <= 10_000; id++ {
		p := checker.Partition{ID: id, Table: "t", Generation: 1, Leader: 1 + id%99}
		for k := uint64(0); k < 3; k++ {
			n := 1 + (id+k*34)%99 // three zones
			p.Voters = append(p.Voters, n)
			p.Status = append(p.Status, checker.Replica{Node: n, LastContact: epoch})
		}
		p.Replicas = p.Voters
		v.Partitions = append(v.Partitions, p)
	}
	var running []gate.Running
	for i := range 8 {
		p := v.Partitions[i]
		running = append(running, gate.Running{Op: checker.Op{Kind: checker.MoveReplica, Partition: p.ID,
			From: p.Voters[1], To: 100}, Started: epoch.Add(-time.Second)})
	}
	// A move inside the zone of the voter it replaces: every check runs,
	// and passes.
	p := v.Partitions[5000]
	from, to := p.Voters[1], p.Voters[1]+3
	for slices.Contains(p.Voters, to) {
		to += 3
	}
	op := checker.Op{Kind: checker.MoveReplica, Partition: p.ID, From: from, To: to,
		Generation: p.Generation, Voters: p.Voters}
	cfg := checker.DefaultConfig(epoch)
	limits := gate.Limits{PerNode: 100, PerZone: 100, PerCluster: 100, StartsPerMinute: 100}
	b.ReportAllocs()
	for b.Loop() {
		if v := gate.Admit(op, v, cfg, running, nil, gate.Yellow, false, limits, epoch); v.Decision != gate.Run {
			b.Fatal(v)
		}
	}
}
