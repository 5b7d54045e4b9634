package checker_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
)

// BenchmarkCompute plans a 60-node, 3-zone cluster of 10,000 partitions
// with one node dead: 500 replacements, then balance.
func BenchmarkCompute(b *testing.B) {
	const nodes, parts = 60, 10_000
	var v checker.View
	for id := uint64(1); id <= nodes; id++ {
		n := checker.Node{ID: id, Zone: fmt.Sprint("z", id%3), PeerAddr: "x", Liveness: directory.Alive, Since: epoch.Add(-time.Hour)}
		if id == 7 {
			n.Liveness, n.Since = directory.Dead, epoch.Add(-time.Minute)
		}
		v.Nodes = append(v.Nodes, n)
	}
	for id := uint64(1); id <= parts; id++ {
		base := id % (nodes / 3) * 3
		voters := []uint64{base + 1, base + 2, base + 3}
		p := checker.Partition{ID: id, Table: "t", Generation: 1, Voters: voters, Replicas: voters, Leader: voters[id%3]}
		for _, n := range voters {
			r := checker.Replica{Node: n, LastContact: epoch}
			if n == 7 {
				r.LastContact = epoch.Add(-time.Minute)
			}
			p.Status = append(p.Status, r)
		}
		v.Partitions = append(v.Partitions, p)
	}
	cfg := checker.DefaultConfig(epoch)
	b.ReportAllocs()
	for b.Loop() {
		plan, err := checker.Compute(v, cfg)
		if err != nil || len(plan.Ops) == 0 {
			b.Fatal(err, len(plan.Ops))
		}
	}
}
