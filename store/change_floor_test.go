package store_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// TestChangeFloorLogsWritesItsLeaderDidNotExpect: the stores' change logs
// say table 1 logs nothing (a leader whose copy of the directory lags),
// and writers race a change floor of NEW_AND_OLD_IMAGES. Every write
// applied after the floor is logged, on every replica: those evaluated
// before the floor applied (refused and evaluated again), those proposed
// after it, and those of a new leader after the old one stopped.
func TestChangeFloorLogsWritesItsLeaderDidNotExpect(t *testing.T) {
	c := newTestCluster(t, 3)
	const p = 2
	for _, s := range c.stores {
		if err := s.Bootstrap(p, []uint64{1, 2, 3}, tableSpan()); err != nil {
			t.Fatal(err)
		}
	}
	floor := &partitapb.Command{Id: []byte("floor"), Op: &partitapb.Command_SetChangeFloor{SetChangeFloor: &partitapb.SetChangeFloor{
		TableId: 1, View: partitapb.ChangeView_NEW_AND_OLD_IMAGES, TableRevision: 1}}}

	var floored atomic.Bool
	var mu sync.Mutex
	after := map[string]bool{} // ids of writes proposed after the floor applied
	adds := map[string]int{}   // acknowledged writes per key
	write := func(round string, writers, n int) {
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range n {
					id := fmt.Sprint(round, w, "-", i)
					pk := fmt.Sprint("k", w, "-", i%3)
					started := floored.Load()
					if _, err := c.tryPropose(p, addTo(id, pk)); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					adds[pk]++
					if started {
						after[id] = true
					}
					mu.Unlock()
				}
			}()
		}
		if round == "race" {
			if res, err := c.tryPropose(p, floor); err != nil || res.GetError() != nil {
				t.Errorf("floor: %v %v", err, res.GetError())
			}
			floored.Store(true)
		}
		wg.Wait()
	}
	write("race", 6, 40)
	if t.Failed() {
		t.FailNow()
	}
	old := c.leader(p)
	c.stop(old)
	write("new-leader", 2, 10)
	c.start(old)

	leader := c.leader(p)
	log := c.readLog(t, leader, p)
	// Each key's records chain without a gap (each one's old image is the
	// previous one's new image) up to the key's last write: a write
	// applied after the floor without a record would break the chain.
	last := map[string]string{}
	counter := func(image []byte) string {
		if image == nil {
			return "absent"
		}
		it, err := item.DecodeItem(image)
		if err != nil {
			t.Fatal(err)
		}
		return it["n"].String()
	}
	for _, r := range log.Records {
		k := string(r.Record.GetKey())
		if prev, ok := last[k]; ok && counter(r.Record.GetOldImage()) != prev {
			t.Fatalf("record %d of %x follows n %s, but its old image has n %s: a write is missing from the log", r.Seq, k, prev, counter(r.Record.GetOldImage()))
		}
		last[k] = counter(r.Record.GetNewImage())
	}
	for pk, n := range adds {
		k, _ := engine.DataKey(nil, 1, item.S(pk), item.Value{})
		if got, ok := last[string(k)]; ok && got != fmt.Sprintf(`{"N":"%d"}`, n) {
			t.Fatalf("the last record of %s has n %s, but %d writes were acknowledged", pk, got, n)
		}
	}
	logged := int(log.Last - log.First + 1)
	if len(after) == 0 || logged < len(after) {
		t.Fatalf("%d records for %d writes proposed after the floor applied:\n%s", logged, len(after), describeLog(log))
	}
	c.waitSameState(t, p) // every replica holds the same log
}
