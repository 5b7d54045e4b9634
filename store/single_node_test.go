package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

// startSingle starts a one-node store hosting one-voter groups partitions.
func startSingle(t *testing.T, eng *engine.Engine, partitions ...uint64) *store.Store {
	t.Helper()
	return startSingleWith(t, eng, func(*store.Config) {}, partitions...)
}

// openSingle opens an engine in a temporary directory and starts
// startSingle's store on it; both are stopped and closed when the test
// ends.
func openSingle(t *testing.T, partitions ...uint64) (*engine.Engine, *store.Store) {
	t.Helper()
	eng, err := engine.Open(engine.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	s := startSingle(t, eng, partitions...)
	t.Cleanup(s.Stop)
	return eng, s
}

// startSingleWith is startSingle with edit applied to the configuration.
func startSingleWith(t *testing.T, eng *engine.Engine, edit func(*store.Config), partitions ...uint64) *store.Store {
	t.Helper()
	cfg := store.DefaultConfig()
	cfg.NodeID, cfg.Engine = 1, eng
	edit(&cfg)
	s, err := store.NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Start(transport.NewInmem(1).Connect(1, s))
	for _, p := range partitions {
		if err := s.Bootstrap(p, []uint64{1}, tableSpan()); err != nil {
			t.Fatal(err)
		}
		// The vote for itself takes a processing round or two.
		for deadline := time.Now().Add(5 * time.Second); s.Replica(p).Leader() != 1; {
			if time.Now().After(deadline) {
				t.Fatalf("partition %d elected no leader", p)
			}
			time.Sleep(time.Millisecond)
		}
	}
	return s
}

// TestConcurrentProposalsApplyOnce runs concurrent increments on one item of
// one partition and on items of other partitions, then reopens the engine:
// every acknowledged increment is applied exactly once and durable.
func TestConcurrentProposalsApplyOnce(t *testing.T) {
	dir := t.TempDir()
	eng, err := engine.Open(engine.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s := startSingle(t, eng, 2, 3)
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
			for i := range each {
				cmd := &partitapb.Command{Id: []byte(fmt.Sprint(w, "/", i)), FirstAttempt: true, Op: &partitapb.Command_UpdateItem{UpdateItem: &partitapb.UpdateItem{
					Key:     keyOf(p),
					KeyItem: item.EncodeItem(item.Item{"pk": item.N(item.MustNumber("1"))}),
					Update:  &partitapb.Expression{Text: "ADD n :one", Values: values},
				}}}
				res, err := s.Propose(context.Background(), p, cmd)
				if err != nil || res.GetError() != nil {
					t.Errorf("propose: %v %v", err, res.GetError())
					return
				}
				if cmd.FirstAttempt {
					t.Error("a proposed command is still marked as a first attempt")
					return
				}
				if i%4 == 0 { // a retry of an applied command: answered, not applied again
					if res, err := s.Propose(context.Background(), p, cmd); err != nil || res.GetError() != nil {
						t.Errorf("retry: %v %v", err, res.GetError())
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	s.Stop()
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
	_, s := openSingle(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Propose(ctx, 2, &partitapb.Command{Id: []byte("x")}); err == nil {
		t.Fatal("propose with a cancelled context succeeded")
	}
	if _, err := s.Propose(context.Background(), 99, &partitapb.Command{}); !errors.Is(err, store.ErrNoReplica) {
		t.Fatalf("propose to a missing partition: %v", err)
	}
}

func TestDestroyedReplicaIsNotBootstrappedAgain(t *testing.T) {
	_, s := openSingle(t, 2)
	if err := s.Destroy(2); err != nil {
		t.Fatal(err)
	}
	if err := s.Bootstrap(2, []uint64{1}, tableSpan()); !errors.Is(err, store.ErrDestroyed) {
		t.Fatalf("bootstrap after destroy: %v, want ErrDestroyed", err)
	}
	// Added back on purpose (a learner), the replica exists again.
	if err := s.AddEmptyReplica(2); err != nil || s.Replica(2) == nil {
		t.Fatalf("add back: %v", err)
	}
}
