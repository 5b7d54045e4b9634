package replica

import (
	"errors"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// drive runs processing rounds on r until it has no work, as the store
// does, with no peers.
func drive(t *testing.T, eng *engine.Engine, r *Replica) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if _, ok, more := round(t, eng, r); !more && !ok {
			return
		}
	}
	t.Fatal("replica never settled")
}

func openSingle(t *testing.T, eng *engine.Engine) *Replica {
	t.Helper()
	start, end := engine.HashSpan(1, 0, 0) // table 1, where counterCmd writes
	spans := []*partitapb.Span{{Start: start, End: end}}
	commit(t, eng, func(b *engine.Batch) error { return Bootstrap(b, 3, []uint64{1}, spans) })
	cfg := DefaultConfig()
	cfg.Partition, cfg.ID, cfg.Engine = 3, 1, eng
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Halt) // before the engine closes: no fill left reading it
	return r
}

func counterCmd(id string) *partitapb.Command {
	k, _ := engine.DataKey(nil, 1, item.S("c"), item.Value{})
	return &partitapb.Command{Id: []byte(id), Op: &partitapb.Command_UpdateItem{UpdateItem: &partitapb.UpdateItem{
		Key: k, KeyItem: item.EncodeItem(item.Item{"pk": item.S("c")}),
		Update: &partitapb.Expression{Text: "ADD n :one", Values: item.EncodeItem(item.Item{":one": item.N(item.MustNumber("1"))})},
	}}}
}

func TestProposeAppliesOnceAndAnswers(t *testing.T) {
	eng := memEngine(t)
	r := openSingle(t, eng)
	var nl *NotLeaderError
	if _, err := r.Propose(counterCmd("a")); !errors.As(err, &nl) {
		t.Fatalf("propose before election: %v, want NotLeaderError", err)
	}
	if err := r.Campaign(); err != nil {
		t.Fatal(err)
	}
	drive(t, eng, r)
	if r.Leader() != 1 {
		t.Fatalf("leader = %d", r.Leader())
	}
	for i, id := range []string{"a", "b", "a"} { // "a" again: a retry
		// First attempts skip the lookup of their id but still record it,
		// so the retry finds it.
		cmd := counterCmd(id)
		cmd.FirstAttempt = i < 2
		ch, err := r.Propose(cmd)
		if err != nil {
			t.Fatal(err)
		}
		drive(t, eng, r)
		o := <-ch
		if o.Err != nil || o.Result.GetError() != nil {
			t.Fatalf("outcome %v", o)
		}
	}
	k, _ := engine.DataKey(nil, 1, item.S("c"), item.Value{})
	raw, err := eng.Get(k)
	if err != nil {
		t.Fatal(err)
	}
	it, _ := item.DecodeItem(raw)
	if it["n"].N.String() != "2" {
		t.Fatalf("n = %s after commands a, b, a: a retried id must apply once", it["n"].N)
	}
	if _, err := r.Propose(&partitapb.Command{}); err == nil {
		t.Fatal("a command without an id was accepted")
	}
	// A linearizable read is answered once its index has applied.
	ch, err := r.ReadIndex()
	if err != nil {
		t.Fatal(err)
	}
	drive(t, eng, r)
	if err := <-ch; err != nil {
		t.Fatal(err)
	}
	// Reopening from disk resumes at the applied index.
	applied := r.Applied()
	cfg := DefaultConfig()
	cfg.Partition, cfg.ID, cfg.Engine = 3, 1, eng
	r2, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r2.Halt) // before the engine closes: no fill left reading it
	if r2.Applied() != applied {
		t.Fatalf("reopened at %d, want %d", r2.Applied(), applied)
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Partition, cfg.ID, cfg.Engine = 1, 1, memEngine(t)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.ElectionTicks = cfg.HeartbeatTicks
	if cfg.Validate() == nil {
		t.Fatal("election ticks equal to heartbeat ticks accepted")
	}
}
