package member_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// TestCollectedReplicaTakesItsData: a table's record is deleted before
// its partitions' DestroyRange reached this node's replicas (a replica
// behind its leader, or the reconciler faster than the deleting router).
// Once a later table proves the deletion, the reconciler removes the
// replicas and the table's items with them: none stays on disk; the later
// table's item, next to them in the key order, stays.
func TestCollectedReplicaTakesItsData(t *testing.T) {
	h := newHarness(t)
	if _, err := h.m.Join(context.Background(), &partitapb.Node{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	h.m.SetRecord(&partitapb.Node{Id: 1, ApiAddr: "api:1", Version: "test"})
	create := func(name string) *partitapb.Table {
		return h.meta(t, &partitapb.Command{Op: &partitapb.Command_CreateTable{CreateTable: &partitapb.CreateTable{
			Table:          &partitapb.Table{Name: name},
			PartitionCount: 2, Nodes: []uint64{1}, ReplicationFactor: 1,
		}}}).GetTable()
	}
	tbl, later := create("doomed"), create("later")
	h.reconcile(t)
	put := func(table uint64, p *partitapb.Partition) []byte {
		h.waitLeaders(t, p.GetId())
		k := itemKeyIn(t, table, p)
		cmd := &partitapb.Command{Id: fmt.Appendf(nil, "put-%d", p.GetId()), UnixNanos: time.Now().UnixNano(),
			Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: k, Item: item.EncodeItem(item.Item{"pk": item.S("v")})}}}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := h.sender.Propose(ctx, p.GetId(), cmd)
		if err != nil || res.GetError() != nil {
			t.Fatalf("put in partition %d: %v %v", p.GetId(), err, res.GetError())
		}
		if _, err := h.eng.Get(k); err != nil {
			t.Fatalf("item of partition %d not on disk: %v", p.GetId(), err)
		}
		return k
	}
	var keys [][]byte
	for _, p := range tbl.GetPartitions() {
		keys = append(keys, put(tbl.GetId(), p))
	}
	first := put(later.GetId(), later.GetPartitions()[0])
	// The record goes; no DestroyRange reaches the partitions.
	h.meta(t, &partitapb.Command{Op: &partitapb.Command_DeleteTable{DeleteTable: &partitapb.DeleteTable{Name: "doomed"}}})
	h.reconcile(t)
	for i, p := range tbl.GetPartitions() {
		if h.st.Replica(p.GetId()) != nil {
			t.Fatalf("partition %d of the deleted table still has a replica", p.GetId())
		}
		if _, err := h.eng.Get(keys[i]); !errors.Is(err, engine.ErrNotFound) {
			t.Fatalf("partition %d's item stayed on disk after its replica was collected: %v", p.GetId(), err)
		}
	}
	if _, err := h.eng.Get(first); err != nil {
		t.Fatalf("the later table's item went with the deleted table's: %v", err)
	}
}

// itemKeyIn returns the storage key of an item of table whose partition key
// hashes into p's range.
func itemKeyIn(t *testing.T, table uint64, p *partitapb.Partition) []byte {
	t.Helper()
	sp := directory.Spans(p)[0]
	for i := range 1000 {
		k, err := engine.DataKey(nil, table, item.S(fmt.Sprint("k", i)), item.Value{})
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Compare(sp.GetStart(), k) <= 0 && bytes.Compare(k, sp.GetEnd()) < 0 {
			return k
		}
	}
	t.Fatalf("no key of 1000 in partition %d", p.GetId())
	return nil
}
