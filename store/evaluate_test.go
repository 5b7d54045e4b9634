package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// TestConditionalWritesRaceOnOneKey runs, for several keys, conditional
// puts from many goroutines at once that each create the key only if it
// is absent: exactly one of them may succeed, the others fail their
// condition. Two evaluated against the same state (without the item's
// latch) would both succeed.
func TestConditionalWritesRaceOnOneKey(t *testing.T) {
	_, s := openSingle(t, 2)
	const keys, racers = 20, 8
	for k := range keys {
		pk := item.S(fmt.Sprint("k", k))
		key, err := engine.DataKey(nil, 1, pk, item.Value{})
		if err != nil {
			t.Fatal(err)
		}
		var won, lost atomic.Int32
		var wg sync.WaitGroup
		for w := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := &partitapb.Command{Id: []byte(fmt.Sprint(k, "/", w)), FirstAttempt: true, Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{
					Key:       key,
					Item:      item.EncodeItem(item.Item{"pk": pk, "by": item.N(item.MustNumber(fmt.Sprint(w)))}),
					Condition: &partitapb.Expression{Text: "attribute_not_exists(pk)"},
				}}}
				res, err := s.Propose(context.Background(), 2, cmd)
				switch {
				case err != nil:
					t.Errorf("propose: %v", err)
				case res.GetError() == nil:
					won.Add(1)
				case res.GetError().GetCode() == partitapb.Error_CONDITION_FAILED:
					lost.Add(1)
				default:
					t.Errorf("propose: %v", res.GetError())
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 || lost.Load() != racers-1 {
			t.Fatalf("key %d: %d conditional creates succeeded and %d failed, want 1 and %d", k, won.Load(), lost.Load(), racers-1)
		}
	}
}
