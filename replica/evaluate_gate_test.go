package replica

import (
	"context"
	"errors"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/partitadb/partita/engine"
)

// round runs one processing round of r, as the store does, with no peers,
// and returns it; ok says it had work, more that more waits.
func round(t *testing.T, eng *engine.Engine, r *Replica) (rd Ready, ok, more bool) {
	t.Helper()
	r.Lock()
	defer r.Unlock()
	b := eng.NewIndexedBatch()
	rd, ok, err := r.Collect(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Commit(b); err != nil {
		t.Fatal(err)
	}
	if ok {
		if more, err = r.Finish(rd, func([]raftpb.Message) {}, func(raftpb.Message, *SnapshotSource) {}); err != nil {
			t.Fatal(err)
		}
	}
	return rd, ok, more
}

// TestNoEvaluationBeforeOwnTermApplies: a leader evaluates a write only
// once it has applied an entry of its own term. Here the old leader's log
// ends with an ADD proposed as a Command (the format of nodes before
// proposer evaluation, and of internal commands), which raises no
// lease-applied index: the lease index cannot refuse an Effects evaluated
// over a state that lacks it. The replica restarts with that entry
// appended but not applied and is elected again; its first rounds commit
// the entry with its term's empty one. An ADD evaluated then would read the
// counter before the Command's ADD and overwrite it: 2 where 3 is due.
func TestNoEvaluationBeforeOwnTermApplies(t *testing.T) {
	eng := memEngine(t)
	r := leadSingle(t, eng)
	if o, _ := evaluate(t, eng, r, counterCmd("a")); o.Result.GetError() != nil || counter(t, eng) != "1" {
		t.Fatalf("first write: %v, counter %q", o.Result, counter(t, eng))
	}
	if _, err := r.Propose(counterCmd("b")); err != nil {
		t.Fatal(err)
	}
	round(t, eng, r) // appended and durable; not yet applied

	cfg := DefaultConfig()
	cfg.Partition, cfg.ID, cfg.Engine = 3, 1, eng
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Halt) // before the engine closes: no fill left reading it
	if err := r.Campaign(); err != nil {
		t.Fatal(err)
	}
	// Its vote, then its term's empty entry, which commits b's too.
	for i := 0; i < 5 && r.Status().Commit <= r.Applied(); i++ {
		round(t, eng, r)
	}
	if st := r.Status(); st.Commit <= r.Applied() || counter(t, eng) != "1" {
		t.Fatalf("commit %d, applied %d, counter %q: the test needs b committed and not applied", st.Commit, r.Applied(), counter(t, eng))
	}
	ch, err := r.ProposeEvaluated(context.Background(), counterCmd("c"))
	if err == nil {
		drive(t, eng, r)
		o := <-ch
		t.Fatalf("evaluated before applying an entry of its term: %v, counter %q, want ErrNotReady", o.Result, counter(t, eng))
	}
	if !errors.Is(err, ErrNotReady) {
		t.Fatalf("evaluation before applying an entry of its term: %v, want ErrNotReady", err)
	}
	drive(t, eng, r)
	if o, _ := evaluate(t, eng, r, counterCmd("c")); o.Result.GetError() != nil || counter(t, eng) != "3" {
		t.Fatalf("write once ready: %v, counter %q, want 3", o.Result, counter(t, eng))
	}
}
