package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
)

// TestConcurrentProposalsApplyOnce runs concurrent increments on one item of
// one partition and on items of other partitions, then reopens the engine:
// every acknowledged increment is applied exactly once and durable.
func TestConcurrentProposalsApplyOnce(t *testing.T) {
	dir := t.TempDir()
	eng, err := engine.Open(engine.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s := store.NewLocal(eng)
	const workers, each = 16, 20
	keyOf := func(p uint64) []byte {
		k, err := engine.DataKey(nil, 1, item.N(item.MustNumber("1")), item.Value{})
		if err != nil {
			t.Fatal(err)
		}
		return append(k, byte(p)) // distinct key per partition
	}
	values := item.EncodeItem(item.Item{":one": item.N(item.MustNumber("1"))})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := uint64(2 + w%2)
			for range each {
				cmd := &partitapb.Command{Op: &partitapb.Command_UpdateItem{UpdateItem: &partitapb.UpdateItem{
					Key:     keyOf(p),
					KeyItem: item.EncodeItem(item.Item{"pk": item.N(item.MustNumber("1"))}),
					Update:  &partitapb.Expression{Text: "ADD n :one", Values: values},
				}}}
				res, err := s.Propose(context.Background(), p, cmd)
				if err != nil || res.GetError() != nil {
					t.Errorf("propose: %v %v", err, res.GetError())
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	eng, err = engine.Open(engine.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	for _, p := range []uint64{2, 3} {
		raw, err := eng.Get(keyOf(p))
		if err != nil {
			t.Fatal(err)
		}
		it, err := item.DecodeItem(raw)
		if err != nil {
			t.Fatal(err)
		}
		want := item.MustNumber("160") // workers/2 * each
		if got := it["n"].N; got != want {
			t.Fatalf("partition %d: n = %s, want %s", p, got, want)
		}
	}
}

func TestProposeHonoursCancelledContext(t *testing.T) {
	eng, err := engine.Open(engine.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := store.NewLocal(eng).Propose(ctx, 2, &partitapb.Command{}); err == nil {
		t.Fatal("propose with a cancelled context succeeded")
	}
}
