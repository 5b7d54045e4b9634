package node

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/doctor"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology"
	"github.com/partitadb/partita/topology/ingest"
)

// TestDoctorDropsStalePlans replays plans made before their partitions
// changed. A table created on one node gets replicas on two nodes that
// join; while the Doctor is paused, its plan (add-replica for every
// partition) is kept with the cluster view it was made from. The Doctor
// then grows the table. A second Doctor, at the active epoch but planning
// from the kept view, proposes the same additions again: every one is
// judged stale against the directory as it is now and recorded so, none
// runs, and the partitions are left as they were.
func TestDoctorDropsStalePlans(t *testing.T) {
	t.Parallel()
	start := func(join ...string) *Node { return startClosingDoctorNode(t, join...) }
	n1 := start()
	ctx := context.Background()
	table := &partitapb.Table{Name: "stale", BillingMode: "PAY_PER_REQUEST",
		KeySchema:            []*partitapb.KeyElement{{AttributeName: "pk", KeyType: "HASH"}},
		AttributeDefinitions: []*partitapb.AttributeDefinition{{AttributeName: "pk", AttributeType: "S"}}}
	if _, err := n1.router.CreateTable(ctx, table); err != nil {
		t.Fatal(err)
	}
	records := doctorRecords{n: n1}
	if err := records.setPaused(ctx, true, "test", "keep the plan"); err != nil {
		t.Fatal(err)
	}
	nodes := []*Node{n1, start(n1.PeerAddr()), start(n1.PeerAddr())}
	active := waitActive(t, nodes...)
	parts := func() []topology.PartitionInfo {
		ps, err := ctl{n: active}.Partitions(ctx, "stale")
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	// The paused Doctor's plan: an addition for every partition of the
	// table, held. The view it was made from is kept.
	var old *ingest.ClusterView
	want := len(parts())
	waitFor(t, "a plan adding replicas to every partition", func() bool {
		old = active.ingest.View()
		adds := 0
		for _, po := range active.doctor.Load().d.LastPlan().Ops {
			if po.Op.Kind == "add-replica" && po.Op.Table == "stale" {
				adds++
			}
		}
		return adds >= want
	})
	if err := records.setPaused(ctx, false, "test", ""); err != nil {
		t.Fatal(err)
	}
	// On a timeout, the partitions and the Doctor's last decisions say
	// where the growth stopped.
	var state string
	grown := func() bool {
		ps := parts()
		for _, p := range ps {
			if len(p.Replicas) != 3 || len(p.Voters) != 3 {
				var ops []string
				if d := active.doctor.Load(); d != nil {
					for _, po := range d.d.LastPlan().Ops {
						ops = append(ops, fmt.Sprintf("%s: %s %v", po.Op, po.Decision, po.Reasons))
					}
				}
				state = fmt.Sprintf("partitions %+v; last plan %v", ps, ops)
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(90 * time.Second); !grown(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the table on three replicas: %s", state)
		}
	}
	// The partitions grow with each addition's last step; its outcome is
	// recorded after it: wait for the timeline to finish each one.
	waitFor(t, "the additions' outcomes in the timeline", func() bool {
		running := 0
		if err := doctor.EachEntry(ctx, records, func(e doctor.Entry) {
			if e.State == doctor.Running && e.Op.Table == "stale" {
				running++
			}
		}); err != nil {
			t.Fatal(err)
		}
		return running == 0
	})
	before := parts()

	// Replay: a Doctor at the active epoch, planning from the kept view.
	cfg, deps := active.doctorSetup(active.Doctor(), nil)
	cfg.Registerer = prometheus.NewRegistry()
	deps.View = func() *ingest.ClusterView { return old }
	replay, err := doctor.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	replayed := 0
	for range 3 {
		if err := replay.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
		for _, po := range replay.LastPlan().Ops {
			if po.Op.Table != "stale" {
				continue
			}
			replayed++
			if po.Decision != "stale" {
				t.Fatalf("a replayed %s was judged %q (%v), want stale", po.Op, po.Decision, po.Reasons)
			}
		}
		if len(replay.Running()) > 0 {
			t.Fatalf("replayed operations started: %+v", replay.Running())
		}
	}
	if replayed < 3*want {
		t.Fatalf("%d operations replayed over 3 cycles, want %d: the kept view no longer plans them", replayed, 3*want)
	}
	if after := parts(); !samePartitions(before, after) {
		t.Fatalf("the partitions changed after the replay:\nbefore %+v\nafter  %+v", before, after)
	}
	// The timeline says so, once per operation.
	stale := 0
	if err := doctor.EachEntry(ctx, records, func(e doctor.Entry) {
		if e.State == doctor.Stale && e.Op.Table == "stale" {
			stale++
		}
		if e.State == doctor.Running && e.Op.Table == "stale" {
			t.Errorf("an operation runs after the table grew: %+v", e)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if stale < want {
		t.Fatalf("%d stale entries in the timeline, want %d", stale, want)
	}
	t.Logf("replayed %d stale operations over 3 cycles: 0 applied, %d recorded stale", replayed, stale)
}

// samePartitions compares the layout of two listings.
func samePartitions(a, b []topology.PartitionInfo) bool {
	return slices.EqualFunc(a, b, func(x, y topology.PartitionInfo) bool {
		return x.ID == y.ID && x.Generation == y.Generation && slices.Equal(x.Voters, y.Voters) &&
			slices.Equal(x.Replicas, y.Replicas)
	})
}
