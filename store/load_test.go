package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
)

func sum(xs []uint64) (n uint64) {
	for _, x := range xs {
		n += x
	}
	return n
}

// The store counts what each partition serves: writes and their bytes,
// reads (a Get or a Walk each) and the bytes returned, rejected commands,
// a latency per request; nothing for partitions it does not host.
func TestLoadCountsServedRequests(t *testing.T) {
	eng, err := engine.Open(engine.Options{Dir: "/d", FS: engine.NewMemFS()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	s := startSingle(t, eng, 2)
	defer s.Stop()
	ctx := context.Background()
	if _, ok := s.Load(2); ok {
		t.Fatal("load before any request")
	}
	k, _ := engine.DataKey(nil, 1, item.S("a"), item.Value{})
	put := func(id string, cond *partitapb.Expression) *partitapb.Command {
		return &partitapb.Command{Id: []byte(id), Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{
			Key: k, Item: item.EncodeItem(item.Item{"pk": item.S("a"), "v": item.S("0123456789")}), Condition: cond}}}
	}
	for _, id := range []string{"1", "2", "3"} {
		if _, err := s.Propose(ctx, 2, put(id, nil)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.Propose(ctx, 2, put("4", &partitapb.Expression{Text: "attribute_not_exists(pk)"}))
	if err != nil || res.GetError() == nil {
		t.Fatalf("conditional put of an existing item: %v %v", res, err)
	}
	v, err := s.Get(ctx, 2, k, true)
	if err != nil || v == nil {
		t.Fatalf("get: %v %v", v, err)
	}
	lo, hi := tableSpan().GetStart(), tableSpan().GetEnd()
	if _, err := s.Walk(ctx, store.WalkRequest{Partition: 2, Lo: lo, Hi: hi}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, 9, k, false); !errors.Is(err, store.ErrNoReplica) {
		t.Fatalf("get on a partition not hosted: %v", err)
	}
	l, ok := s.Load(2)
	if !ok || l.Writes != 4 || l.Reads != 2 || l.WriteBytes == 0 || l.ReadBytes < 2*uint64(len(v)) {
		t.Fatalf("load %+v", l)
	}
	if l.Errors[3] != 1 || sum(l.Errors[:]) != 1 || store.ErrorKinds[3] != "rejected" {
		t.Fatalf("errors %v, want the one rejected condition", l.Errors)
	}
	if sum(l.Latency[:]) != 6 {
		t.Fatalf("latency histogram %v counts %d requests, want 6", l.Latency, sum(l.Latency[:]))
	}
	if _, ok := s.Load(9); ok {
		t.Fatal("load counted for a partition not hosted")
	}
	if err := s.Destroy(2); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Load(2); ok {
		t.Fatal("load kept after the replica was destroyed")
	}
}
