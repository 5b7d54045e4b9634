package replica

import (
	"context"
	"math"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// counter returns the counter counterCmd adds to ("" when absent).
func counter(t *testing.T, eng *engine.Engine) string {
	t.Helper()
	k, _ := engine.DataKey(nil, 1, item.S("c"), item.Value{})
	raw, err := eng.Get(k)
	if err != nil {
		return ""
	}
	it, err := item.DecodeItem(raw)
	if err != nil {
		t.Fatal(err)
	}
	return it["n"].N.String()
}

// leadSingle opens the one-voter replica of openSingle and elects it.
func leadSingle(t *testing.T, eng *engine.Engine) *Replica {
	t.Helper()
	r := openSingle(t, eng)
	if err := r.Campaign(); err != nil {
		t.Fatal(err)
	}
	drive(t, eng, r)
	return r
}

// evaluate proposes cmd through ProposeEvaluated, drives r and returns the
// outcome, with the raft entry that carried it.
func evaluate(t *testing.T, eng *engine.Engine, r *Replica, cmd *partitapb.Command) (Outcome, []byte) {
	t.Helper()
	ch, err := r.ProposeEvaluated(context.Background(), cmd)
	if err != nil {
		t.Fatal(err)
	}
	drive(t, eng, r)
	o := <-ch
	if o.Err != nil {
		t.Fatal(o.Err)
	}
	ents, err := r.st.Entries(r.Applied(), r.Applied()+1, math.MaxUint64)
	if err != nil {
		t.Fatal(err)
	}
	return o, ents[0].Data
}

// TestEffectsAppliedOnce re-proposes an Effects entry after a later write
// of its item applied: the lease-applied index refuses the repeat, which
// would otherwise set the item back to the state the first evaluation
// produced (a lost update).
func TestEffectsAppliedOnce(t *testing.T) {
	eng := memEngine(t)
	r := leadSingle(t, eng)
	o, first := evaluate(t, eng, r, counterCmd("a"))
	if o.Result.GetError() != nil || !fsm.IsEffects(first) || counter(t, eng) != "1" {
		t.Fatalf("first write: %v, effects entry %v, counter %q", o.Result, fsm.IsEffects(first), counter(t, eng))
	}
	if !o.Result.GetHasNew() {
		t.Fatal("the leader's answer lacks the new image it evaluated")
	}
	if o, _ := evaluate(t, eng, r, counterCmd("b")); o.Result.GetError() != nil || counter(t, eng) != "2" {
		t.Fatalf("second write: %v, counter %q", o.Result, counter(t, eng))
	}
	// The first entry again, as a re-proposal or a duplicated append
	// would bring it.
	r.mu.Lock()
	err := r.raw.Propose(first)
	r.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	drive(t, eng, r)
	if got := counter(t, eng); got != "2" {
		t.Fatalf("counter = %s after the first write's effects applied again, want 2", got)
	}
	lai, err := fsm.ReadLeaseIndex(eng, 3)
	if err != nil || lai != 2 {
		t.Fatalf("lease-applied index = %d (%v), want 2", lai, err)
	}
}

// TestEffectsOfAnotherTermRefused: an entry evaluated in an earlier term
// is refused when it reaches the log in a later one, even with a lease
// index above the applied one.
func TestEffectsOfAnotherTermRefused(t *testing.T) {
	eng := memEngine(t)
	r := leadSingle(t, eng)
	_, first := evaluate(t, eng, r, counterCmd("a"))
	eff, err := fsm.DecodeEffects(first)
	if err != nil {
		t.Fatal(err)
	}
	// The replica restarts and is elected in a new term.
	term := r.Status().Term
	cfg := DefaultConfig()
	cfg.Partition, cfg.ID, cfg.Engine = 3, 1, eng
	if r, err = Open(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Halt) // before the engine closes: no fill left reading it
	if err := r.Campaign(); err != nil {
		t.Fatal(err)
	}
	drive(t, eng, r)
	if r.Status().Term <= term {
		t.Fatalf("term %d after a restart and an election, was %d", r.Status().Term, term)
	}
	eff.LeaseIndex = 100
	data, err := fsm.EncodeEffects(eff)
	if err != nil {
		t.Fatal(err)
	}
	proposeUnawaited(t, r, data)
	drive(t, eng, r)
	if lai, _ := fsm.ReadLeaseIndex(eng, 3); lai != 1 {
		t.Fatalf("lease-applied index = %d after an entry of an older term, want 1", lai)
	}
	if o, _ := evaluate(t, eng, r, counterCmd("b")); o.Result.GetError() != nil || counter(t, eng) != "2" {
		t.Fatalf("write in the new term: %v, counter %q", o.Result, counter(t, eng))
	}
}

// TestEvaluatedRetryAndOldFormat: a retried id answers from its record
// without a second write; Commands of the old format and Effects apply to
// the same item in one log.
func TestEvaluatedRetryAndOldFormat(t *testing.T) {
	eng := memEngine(t)
	r := leadSingle(t, eng)
	cmd := counterCmd("a")
	cmd.FirstAttempt = true
	evaluate(t, eng, r, cmd)
	cmd.FirstAttempt = false
	ch, err := r.ProposeEvaluated(context.Background(), cmd)
	if err != nil {
		t.Fatal(err)
	}
	if o := <-ch; o.Err != nil || o.Result.GetError() != nil || counter(t, eng) != "1" {
		t.Fatalf("retry: %v, counter %q", o, counter(t, eng))
	}
	old := counterCmd("old")
	old.UnixNanos = 1_000_000_000
	ch, err = r.Propose(old)
	if err != nil {
		t.Fatal(err)
	}
	drive(t, eng, r)
	<-ch
	if o, _ := evaluate(t, eng, r, counterCmd("new")); o.Result.GetError() != nil || counter(t, eng) != "3" {
		t.Fatalf("old then new format: %v, counter %q", o.Result, counter(t, eng))
	}
	// A retry, evaluated, of the command applied in the old format finds
	// the record the old format left.
	ch, err = r.ProposeEvaluated(context.Background(), old)
	if err != nil {
		t.Fatal(err)
	}
	if o := <-ch; o.Err != nil || o.Result.GetError() != nil || counter(t, eng) != "3" {
		t.Fatalf("retry of an old-format command: %v, counter %q", o, counter(t, eng))
	}
	// A failed condition is answered with the old image it saw.
	c := counterCmd("cond")
	c.GetUpdateItem().Condition = &partitapb.Expression{Text: "attribute_not_exists(n)"}
	o, _ := evaluate(t, eng, r, c)
	if o.Result.GetError().GetCode() != partitapb.Error_CONDITION_FAILED || !o.Result.GetHasOld() || counter(t, eng) != "3" {
		t.Fatalf("failed condition: %v, counter %q", o.Result, counter(t, eng))
	}
}

// TestRecordsCollected: the at-most-once records of evaluated writes are
// collected a retry window behind the leader's clock; a retry within the
// window answers from its record, one from before it is refused instead of
// applying twice.
func TestRecordsCollected(t *testing.T) {
	eng := memEngine(t)
	start, end := engine.HashSpan(1, 0, 0)
	commit(t, eng, func(b *engine.Batch) error {
		return Bootstrap(b, 3, []uint64{1}, []*partitapb.Span{{Start: start, End: end}})
	})
	now := time.Unix(1_000_000, 0)
	cfg := DefaultConfig()
	cfg.Partition, cfg.ID, cfg.Engine = 3, 1, eng
	cfg.RecordWindow = time.Minute
	cfg.Now = func() time.Time { return now }
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Halt) // before the engine closes: no fill left reading it
	if err := r.Campaign(); err != nil {
		t.Fatal(err)
	}
	drive(t, eng, r)
	records := func() int {
		it, err := eng.NewIter(engine.LocalKey(3, engine.ReplicatedLocal+"t"), engine.LocalKey(3, engine.ReplicatedLocal+"u"))
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		n := 0
		for ok := it.First(); ok; ok = it.Next() {
			n++
		}
		return n
	}
	timed := func(id string, at time.Time) *partitapb.Command {
		c := counterCmd(id)
		c.UnixNanos = at.UnixNano()
		return c
	}
	old := timed("old", now)
	evaluate(t, eng, r, old)
	now = now.Add(30 * time.Second)
	evaluate(t, eng, r, timed("mid", now))
	if n := records(); n != 2 || counter(t, eng) != "2" {
		t.Fatalf("%d records, counter %s; want 2 and 2", n, counter(t, eng))
	}
	now = now.Add(45 * time.Second) // "old" is now past the window, "mid" is not
	evaluate(t, eng, r, timed("new", now))
	if n := records(); n != 2 {
		t.Fatalf("%d records after a collection, want 2 (mid, new)", n)
	}
	if floor, _ := fsm.ReadRecordFloor(eng, 3); floor != now.Add(-time.Minute).UnixNano() {
		t.Fatalf("collection floor %d, want %d", floor, now.Add(-time.Minute).UnixNano())
	}
	retry := func(c *partitapb.Command) *partitapb.Result {
		c.FirstAttempt = false
		ch, err := r.ProposeEvaluated(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		drive(t, eng, r)
		return (<-ch).Result
	}
	if res := retry(timed("mid", now.Add(-45*time.Second))); res.GetError() != nil || counter(t, eng) != "3" {
		t.Fatalf("retry within the window: %v, counter %s (want no error, 3)", res, counter(t, eng))
	}
	if res := retry(old); res.GetError().GetCode() != partitapb.Error_VALIDATION || counter(t, eng) != "3" {
		t.Fatalf("retry from before the window: %v, counter %s (want a refusal, 3)", res, counter(t, eng))
	}
}

// TestEvaluatedOverWritesInFlight: writes of one item proposed before the
// previous ones apply are evaluated over them, each depending on the one
// before; none is lost.
func TestEvaluatedOverWritesInFlight(t *testing.T) {
	eng := memEngine(t)
	r := leadSingle(t, eng)
	var chs []<-chan Outcome
	for _, id := range []string{"a", "b", "c"} {
		ch, err := r.ProposeEvaluated(context.Background(), counterCmd(id))
		if err != nil {
			t.Fatal(err)
		}
		chs = append(chs, ch)
	}
	first := r.Applied() + 1
	drive(t, eng, r)
	for i, ch := range chs {
		if o := <-ch; o.Err != nil || o.Result.GetError() != nil {
			t.Fatalf("write %d: %v", i, o)
		}
	}
	if got := counter(t, eng); got != "3" {
		t.Fatalf("counter = %s after three pipelined writes, want 3", got)
	}
	ents, err := r.st.Entries(first, first+3, math.MaxUint64)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range ents {
		eff, err := fsm.DecodeEffects(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(i); eff.GetDependsOn() != want {
			t.Fatalf("entry %d depends on lease index %d, want %d", i, eff.GetDependsOn(), want)
		}
	}
	if len(r.pending) != 0 {
		t.Fatalf("%d writes still pending once every one applied", len(r.pending))
	}
}

// TestSettleableOnlyWhenAwaited: a round may answer its applied writes
// before its fsync (Ready.Settleable) when somebody here waits for one of
// them; a round that applies entries nobody here waits for (a follower's,
// mostly) is not worth the second WAL write.
func TestSettleableOnlyWhenAwaited(t *testing.T) {
	eng := memEngine(t)
	r := leadSingle(t, eng)
	collect := func() Ready {
		t.Helper()
		rd, _, _ := round(t, eng, r)
		return rd
	}
	// Awaited: b, proposed here, applies in the round that appends c.
	b, err := r.ProposeEvaluated(context.Background(), counterCmd("b"))
	if err != nil {
		t.Fatal(err)
	}
	collect() // b appended and committed
	if _, err := r.ProposeEvaluated(context.Background(), counterCmd("c")); err != nil {
		t.Fatal(err)
	}
	if rd := collect(); !rd.MustSync || !rd.Settleable() {
		t.Fatalf("the round applying b and appending c: MustSync %v, Settleable %v; want both", rd.MustSync, rd.Settleable())
	}
	if o := <-b; o.Err != nil {
		t.Fatal(o.Err)
	}
	drive(t, eng, r)
	// Not awaited: d's entry has nobody waiting here.
	data, err := proto.Marshal(counterCmd("d"))
	if err != nil {
		t.Fatal(err)
	}
	proposeUnawaited(t, r, data)
	collect() // d appended and committed
	if _, err := r.ProposeEvaluated(context.Background(), counterCmd("e")); err != nil {
		t.Fatal(err)
	}
	if rd := collect(); !rd.MustSync || rd.Settleable() {
		t.Fatalf("the round applying d and appending e: MustSync %v, Settleable %v; want MustSync alone", rd.MustSync, rd.Settleable())
	}
}

// proposeUnawaited proposes an entry's data straight to raft: nobody
// waits for its outcome.
func proposeUnawaited(t *testing.T, r *Replica, data []byte) {
	t.Helper()
	r.mu.Lock()
	err := r.raw.Propose(data)
	r.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
}
