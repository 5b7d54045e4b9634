package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/partitadb/partita/admission"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
)

// TestAdmissionOnTheStore: the store admits item writes on the leader and
// reads of item keys; a refused one is a THROTTLED error, counted as such
// in the partition's load; reads of a partition's statistics never count.
func TestAdmissionOnTheStore(t *testing.T) {
	eng, err := engine.Open(engine.Options{Dir: "/d", FS: engine.NewMemFS()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	now := time.Unix(1_700_000_000, 0) // a clock that never moves: no refill
	acfg := admission.DefaultConfig()
	acfg.PartitionWriteUnits, acfg.PartitionReadUnits = 3, 1
	acfg.Now = func() time.Time { return now }
	acfg.Limits = func(p uint64) (admission.Limits, bool) { return admission.Limits{Table: "t", TableID: 1}, p == 2 }
	ac, err := admission.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	s := startSingleWith(t, eng, func(c *store.Config) { c.Admission = ac }, 2)
	defer s.Stop()
	ctx := context.Background()
	k, _ := engine.DataKey(nil, 1, item.S("a"), item.Value{})
	put := func(id string) (*partitapb.Result, error) {
		return s.Propose(ctx, 2, &partitapb.Command{Id: []byte(id), Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{
			Key: k, Item: item.EncodeItem(item.Item{"pk": item.S("a")})}}})
	}
	throttled := func(err error) bool {
		pe, ok := err.(*partitapb.Error)
		return ok && pe.GetCode() == partitapb.Error_THROTTLED && pe.GetTable() == "t"
	}
	// Three write units a second, one per small write.
	for i, id := range []string{"1", "2", "3"} {
		if _, err := put(id); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if _, err := put("4"); !throttled(err) {
		t.Fatalf("fourth write: %v, want THROTTLED", err)
	}
	// One read unit: a consistent read of the item, then none.
	if _, err := s.Get(ctx, 2, k, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, 2, k, true); !throttled(err) {
		t.Fatalf("second read: %v, want THROTTLED", err)
	}
	// The partition's statistics are not an item: never charged.
	for range 5 {
		if _, err := s.Get(ctx, 2, fsm.StatsKey(2), false); err != nil {
			t.Fatalf("stats read: %v", err)
		}
	}
	l, _ := s.Load(2)
	if got := l.Errors[len(store.ErrorKinds)-1]; store.ErrorKinds[len(store.ErrorKinds)-1] != "throttled" || got != 2 {
		t.Fatalf("load errors %v, want 2 throttled", l.Errors)
	}
}
