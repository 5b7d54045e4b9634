package replica

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// TestRecordFilter: once filled from the records a state holds, the
// filter never reports absent an id that has a record there or that was
// added since; buckets wholly below the floor go; untimed ids stay; a
// reset during a fill keeps it from completing; an idle filter adds
// nothing.
func TestRecordFilter(t *testing.T) {
	eng := memEngine(t)
	const part = 9
	b := eng.NewIndexedBatch()
	for i := range 100 {
		if err := b.Set(fsm.CommandRecordKey(part, fmt.Sprint("timed", i), int64(1000+i)), []byte{}); err != nil {
			t.Fatal(err)
		}
		if err := b.Set(fsm.CommandRecordKey(part, fmt.Sprint("untimed", i), 0), []byte{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := eng.Commit(b); err != nil {
		t.Fatal(err)
	}
	f := newRecordFilter(400) // buckets of 100ns of command time
	f.add([]byte("early"), 1000)
	if f.absent([]byte("anything"), 0) || !f.idle() {
		t.Fatal("an unfilled filter answered, or was not idle")
	}
	gen := f.begin()
	f.reset()
	if err := f.fill(eng, part, gen); err != nil {
		t.Fatal(err)
	}
	if !f.idle() {
		t.Fatal("a fill begun before a reset completed the filter")
	}
	if err := f.fill(eng, part, f.begin()); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		for _, id := range []string{fmt.Sprint("timed", i), fmt.Sprint("untimed", i)} {
			if f.absent([]byte(id), 0) {
				t.Fatalf("%s has a record, reported absent", id)
			}
		}
	}
	f.add([]byte("later"), 1150)
	if f.absent([]byte("later"), 0) {
		t.Fatal("an id added after the fill reported absent")
	}
	absent := 0
	for i := range 1000 {
		if f.absent(fmt.Appendf(nil, "never%d", i), 0) {
			absent++
		}
	}
	if absent < 900 {
		t.Fatalf("only %d of 1000 ids without a record reported absent", absent)
	}
	// The floor passes the bucket [1000, 1100): its ids go, the next
	// bucket's and the untimed ones stay.
	if !f.absent([]byte("timed5"), 1100) || f.absent([]byte("later"), 1100) || f.absent([]byte("untimed5"), 1100) {
		t.Fatal("the floor dropped the wrong buckets")
	}
	f.reset()
	f.add([]byte("idle"), 1150)
	if len(f.buckets) != 0 || f.untimed != nil {
		t.Fatal("an idle filter kept an id")
	}
}

// TestRecordFilterSparesProbesNotRetries: a leader answers a retry whose
// command applied from its record while the record filter spares the
// probe of ids that have none. Without apply adding the ids it applies,
// the retry of a command applied after the filter was filled would apply
// a second time.
func TestRecordFilterSparesProbesNotRetries(t *testing.T) {
	eng := memEngine(t)
	r := leadSingle(t, eng)
	timed := func(id string, first bool) *partitapb.Command {
		c := counterCmd(id)
		c.UnixNanos, c.FirstAttempt = time.Now().UnixNano(), first
		return c
	}
	propose := func(c *partitapb.Command) { t.Helper(); proposeDriven(t, eng, r, c) }
	// A forwarded write (not a first attempt) fills the filter, on a
	// goroutine of its own.
	propose(timed("w", false))
	waitComplete(t, r)
	x := timed("x", true)
	propose(x)
	x.FirstAttempt = false
	propose(x)
	if got := counter(t, eng); got != "2" {
		t.Fatalf("counter %s after w, x and x's retry: want 2 (the retry answered from its record)", got)
	}
	if r.records.absent([]byte("x"), 0) {
		t.Fatal("x applied, and the filter reports it absent")
	}
	if !r.records.absent([]byte("y"), 0) {
		t.Fatal("y never applied, and the filter cannot tell")
	}
	propose(timed("y", false))
	if got := counter(t, eng); got != "3" {
		t.Fatalf("counter %s after y: want 3", got)
	}
}

// waitComplete waits for r's record filter to complete its fill.
func waitComplete(t *testing.T, r *Replica) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		r.records.mu.Lock()
		st := r.records.state
		r.records.mu.Unlock()
		if st == filterComplete {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("filter state %d 10s after a forwarded write, want complete", st)
		}
	}
}

// TestRecordFilterFillsAside: the write that finds the filter idle does
// not wait for its fill (a scan of up to a retry window of records): it
// and the writes after it probe the records while the fill runs, and a
// retry is still answered from its record. Halt stops the fill and waits
// for it, and none starts after.
func TestRecordFilterFillsAside(t *testing.T) {
	eng := memEngine(t)
	r := leadSingle(t, eng)
	started, release := make(chan struct{}), make(chan struct{})
	r.fillStarted = func() {
		close(started)
		<-release
	}
	timed := func(id string) *partitapb.Command {
		c := counterCmd(id)
		c.UnixNanos = time.Now().UnixNano()
		return c
	}
	propose := func(c *partitapb.Command) { t.Helper(); proposeDriven(t, eng, r, c) }
	// Answered while the fill is held at its start.
	propose(timed("w"))
	<-started
	x := timed("x")
	propose(x)
	propose(x) // a retry: answered from x's record, found by the probe
	if got := counter(t, eng); got != "2" {
		t.Fatalf("counter %s after w, x and x's retry: want 2", got)
	}
	if r.records.absent([]byte("y"), 0) {
		t.Fatal("the filter answered before its fill completed")
	}
	halted := make(chan struct{})
	go func() {
		r.Halt()
		close(halted)
	}()
	select {
	case <-halted:
		t.Fatal("Halt returned while the fill still ran")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-halted
	r.records.mu.Lock()
	st := r.records.state
	r.records.mu.Unlock()
	if st != filterIdle {
		t.Fatalf("filter state %d after Halt, want idle", st)
	}
	r.fillRecords() // refused: no goroutine left for goleak to find
}

// BenchmarkRecordFilterFill: a fill's cost per record, the timed records
// of one partition (16-byte ids) in an engine in memory.
func BenchmarkRecordFilterFill(b *testing.B) {
	eng := memEngine(b)
	const part, records = 9, 100_000
	batch := eng.NewIndexedBatch()
	for i := range records {
		if err := batch.Set(fsm.CommandRecordKey(part, fmt.Sprintf("%016d", i), int64(1000+i)), []byte{}); err != nil {
			b.Fatal(err)
		}
	}
	if err := eng.Commit(batch); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		f := newRecordFilter(int64(10 * time.Minute))
		if err := f.fill(eng, part, f.begin()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*records), "ns/record")
}

// proposeDriven proposes c to r, the single leader of a partition on eng,
// drives it until c applied, and fails t unless c succeeded.
func proposeDriven(t *testing.T, eng *engine.Engine, r *Replica, c *partitapb.Command) {
	t.Helper()
	ch, err := r.ProposeEvaluated(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	drive(t, eng, r)
	if o := <-ch; o.Err != nil || o.Result.GetError() != nil {
		t.Fatalf("%s: %v %v", c.GetId(), o.Err, o.Result)
	}
}
