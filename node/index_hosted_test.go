package node

import (
	"errors"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/store"
)

// TestIndexJobReadsOfADestroyedReplica: the index job reads a base
// partition's items from this node's engine, for a backfill page and for
// the check of an index entry a rebuild may drop. A replica destroyed
// here (moved away) has its range cleared, which would read as "no
// items": the page would pass for the end of the partition, and a live
// item's entry for a stale one. Both reads answer that the replica is
// gone instead.
func TestIndexJobReadsOfADestroyedReplica(t *testing.T) {
	t.Parallel()
	n := startDev(t, func(cfg *Config) { cfg.PartitionsPerTable = 1 })
	db := gsiClient(n.APIURL())
	createPKTable(t, db, "tab")
	putG(t, db, "tab", "x", "old")
	putG(t, db, "tab", "y", "other")
	addIndexByG(t, db, "tab")
	indexActive(t, db, "tab")

	snap := n.dir.Snapshot()
	tab := snap.Table("tab")
	it, gi := router.IndexTables(snap, tab)["byG"], tab.GetGlobalIndexes()[0]
	p := tab.GetPartitions()[0]
	r := n.store.Replica(p.GetId())
	lo, hi := engine.HashSpan(tab.GetId(), p.GetHashStart(), p.GetHashEnd())
	j := &indexJob{n: n}
	entry := item.Item{"pk": {Type: item.TypeS, S: "x"}, "g": {Type: item.TypeS, S: "old"}}

	if items, next, err := j.readHosted(p.GetId(), r, lo, hi); err != nil || len(items) != 2 || next != nil {
		t.Fatalf("a backfill page of the hosted replica: %d items, next %x, %v; want both items", len(items), next, err)
	}
	if stale, err := j.staleEntry(tab, it, gi, p, entry); err != nil || stale {
		t.Fatalf("x's entry, x live: stale %v, %v; want kept", stale, err)
	}

	if err := n.store.Destroy(p.GetId()); err != nil {
		t.Fatal(err)
	}
	// What the checks are for: the destroy cleared the range.
	if items, _, err := j.readItems(lo, hi); err != nil || len(items) != 0 {
		t.Fatalf("the destroyed replica's range: %d items left (%v), want none", len(items), err)
	}
	if items, _, err := j.readHosted(p.GetId(), r, lo, hi); !errors.Is(err, store.ErrNoReplica) {
		t.Fatalf("a backfill page of a replica destroyed here: %d items, %v; want ErrNoReplica", len(items), err)
	}
	if stale, err := j.staleEntry(tab, it, gi, p, entry); !errors.Is(err, store.ErrNoReplica) {
		t.Fatalf("x's entry after its replica was destroyed here: stale %v, %v; want ErrNoReplica (x is not known gone)", stale, err)
	}
}
