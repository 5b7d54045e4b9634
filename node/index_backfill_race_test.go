package node

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/router"
)

// TestBackfillOfDeposedLeader reproduces the race of a leader change
// during a backfill: the base partition's leader reads a page of items
// for a new index and stalls before writing them; its lead moves, the new
// leader backfills the partition, the index goes ACTIVE, and an item of
// the stalled page moves to another index key, which the new leader's
// maintenance applies. Then the deposed leader's write lands. The item's
// old entry must not come back: the tombstone its move left refuses the
// older backfill write (docs/indexes.md, "Backfill").
//
// With the tombstone sweeper on, the stalled write is released only once
// the index partitions were sealed and swept (the tombstone of x's move
// is gone): the seal refuses it, and the entry still does not come back
// (docs/indexes.md, "Tombstones").
func TestBackfillOfDeposedLeader(t *testing.T) {
	t.Parallel()
	t.Run("tombstone", func(t *testing.T) { testBackfillOfDeposedLeader(t, false) })
	t.Run("swept", func(t *testing.T) { testBackfillOfDeposedLeader(t, true) })
}

func testBackfillOfDeposedLeader(t *testing.T, sweep bool) {
	var armed atomic.Bool
	type stall struct {
		node      int
		partition uint64
		release   chan struct{}
		written   chan error
	}
	stalled := make(chan stall, 1)
	var releaseOnce sync.Once
	nodes := startThree(t, func(i int, cfg *Config) {
		cfg.ReconcileInterval, cfg.PartitionsPerTable = 100*time.Millisecond, 1
		cfg.IndexSweepInterval = 0
		if sweep {
			cfg.IndexSweepInterval = 100 * time.Millisecond
		}
		cfg.backfillPause = func(partition uint64, page []item.Item) func(error) {
			// The page of x: the table's other partitions' pages (one
			// of them empty) would not exercise the race.
			if !slices.ContainsFunc(page, func(it item.Item) bool { return it["pk"].S == "x" }) || !armed.CompareAndSwap(true, false) {
				return nil
			}
			s := stall{node: i, partition: partition, release: make(chan struct{}), written: make(chan error, 1)}
			stalled <- s
			<-s.release
			return func(err error) { s.written <- err }
		}
	})
	if sweep {
		for _, n := range nodes { // until x's move left its tombstone
			if err := n.Jobs().Pause(IndexSweepJob); err != nil {
				t.Fatal(err)
			}
		}
	}
	ctx := context.Background()
	db := gsiClient(nodes[0].APIURL())
	createPKTable(t, db, "tab")
	put := func(pk, g string) { t.Helper(); putG(t, db, "tab", pk, g) }
	put("x", "old")
	put("y", "other")

	armed.Store(true)
	addIndexByG(t, db, "tab")
	st := <-stalled // the leader read x (g = old) and stalls before writing
	t.Cleanup(func() { releaseOnce.Do(func() { close(st.release) }) })
	deposed, heir := nodes[st.node], nodes[(st.node+1)%3]
	_ = st.partition // one of the table's partitions, moved below with the others
	// The stalled node's job does nothing more: every partition it leads
	// (the stalled one, the table's others, the meta partition) goes to
	// the heir, whose job backfills them and activates the index.
	parts := []uint64{directory.MetaPartition}
	for _, q := range deposed.dir.Snapshot().Table("tab").GetPartitions() {
		parts = append(parts, q.GetId())
	}
	for _, part := range parts {
		if r := deposed.store.Replica(part); r != nil && r.Leader() == deposed.replicaID() {
			if err := deposed.store.TransferLeadershipTo(ctx, part, heir.ID()); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The heir serves the rest: the stalled node's jobs lag behind.
	db = dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(heir.APIURL()),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	waitFor(t, "the index to be ACTIVE, backfilled by the new leader", func() bool {
		d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("tab")})
		return err == nil && len(d.Table.GlobalSecondaryIndexes) == 1 && d.Table.GlobalSecondaryIndexes[0].IndexStatus == types.IndexStatusActive
	})
	put("x", "new") // the new leader's maintenance moves x's entry from old to new

	// entries reads the index's entries of g = v, strongly consistent.
	entries := func(v string) []string {
		t.Helper()
		snap := heir.dir.Snapshot()
		tables := router.IndexTables(snap, snap.Table("tab"))
		var out []string
		err := heir.router.Query(ctx, tables["byG"], router.QuerySpec{PK: item.Value{Type: item.TypeS, S: v}, Forward: true, Consistent: true},
			func(it item.Item, _ int) bool { out = append(out, it["pk"].S); return true })
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	waitFor(t, "x's entry to move to g = new", func() bool { return len(entries("new")) == 1 && len(entries("old")) == 0 })

	indexID := heir.dir.Snapshot().Table(directory.IndexTableName("tab", "byG")).GetId()
	if indexTombstones(t, heir, indexID) == 0 {
		t.Fatal("x's move left no tombstone (the race is not exercised)")
	}
	if sweep {
		for _, n := range nodes {
			if err := n.Jobs().Resume(IndexSweepJob); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "the index's tombstones to be collected on every node", func() bool {
			for _, n := range nodes {
				if indexTombstones(t, n, indexID) != 0 {
					return false
				}
			}
			return true
		})
		if got := collectedTombstones(t, nodes); got < 1 {
			t.Fatalf("partita_gsi_tombstones_collected_total sums to %v over the nodes, want at least 1", got)
		}
	}

	releaseOnce.Do(func() { close(st.release) }) // the deposed leader's write lands now
	err := <-st.written
	switch {
	case !sweep && err != nil:
		t.Fatalf("the deposed leader's backfill write failed (the race was not exercised): %v", err)
	case sweep && err == nil:
		t.Fatal("the deposed leader's backfill write of a sealed round was accepted")
	}
	if got := entries("old"); len(got) != 0 {
		t.Fatalf("the deposed leader's backfill brought back x's old entry: g = old holds %v", got)
	}
	if got := entries("new"); len(got) != 1 || got[0] != "x" {
		t.Fatalf("g = new holds %v, want [x]", got)
	}
	if got := entries("other"); len(got) != 1 || got[0] != "y" {
		t.Fatalf("g = other holds %v, want [y]", got)
	}
}

// indexTombstones counts the tombstones of the index table tableID in n's
// engine.
func indexTombstones(t *testing.T, n *Node, tableID uint64) int {
	t.Helper()
	lo, hi := engine.HashSpan(tableID, 0, 0)
	iter, err := n.eng.NewIter(lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	defer iter.Close()
	count := 0
	for ok := iter.First(); ok; ok = iter.Next() {
		if _, _, tomb := engine.DecodeGlobalTombstone(iter.Value()); tomb {
			count++
		}
	}
	return count
}

// collectedTombstones sums partita_gsi_tombstones_collected_total over
// nodes.
func collectedTombstones(t *testing.T, nodes []*Node) float64 {
	t.Helper()
	var sum float64
	for _, n := range nodes {
		fams, err := n.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			if f.GetName() != "partita_gsi_tombstones_collected_total" {
				continue
			}
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
