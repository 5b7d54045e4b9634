package replica

import (
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// fakeClock is a lease clock that moves only when told.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock            { c := &fakeClock{}; c.ns.Store(1e18); return c }
func (c *fakeClock) now() time.Time       { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) move(d time.Duration) { c.ns.Add(int64(d)) }
func leaseOf(d time.Duration) *Leases     { l := &Leases{}; l.SetEnabled(true); l.SetDuration(d); return l }
func readIndexOn(t *testing.T, r *Replica) <-chan error {
	t.Helper()
	ch, err := r.ReadIndex()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// leaseSingle elects the one voter of a new partition with leases of
// 100ms on clock.
func leaseSingle(t *testing.T, eng *engine.Engine, clock *fakeClock, leases *Leases) *Replica {
	t.Helper()
	start, end := engine.HashSpan(1, 0, 0)
	commit(t, eng, func(b *engine.Batch) error {
		return Bootstrap(b, 3, []uint64{1}, []*partitapb.Span{{Start: start, End: end}})
	})
	cfg := DefaultConfig()
	cfg.Partition, cfg.ID, cfg.Engine, cfg.Leases, cfg.LeaseClock = 3, 1, eng, leases, clock.now
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Halt) // before the engine closes: no fill left reading it
	if err := r.Campaign(); err != nil {
		t.Fatal(err)
	}
	drive(t, eng, r)
	return r
}

// TestLeaseGrantedAndVoided: a lease comes with an acknowledged ReadIndex
// and lasts its duration from the request on the lease clock; it is
// renewed past half its length; a clock jump forward, a leadership
// transfer begun in the term, a change of duration and turning leases off
// each end it.
func TestLeaseGrantedAndVoided(t *testing.T) {
	eng := memEngine(t)
	clock, leases := newFakeClock(), leaseOf(100*time.Millisecond)
	r := leaseSingle(t, eng, clock, leases)
	if ok, _ := r.LeaseRead(); ok {
		t.Fatal("a lease before any ReadIndex")
	}
	ch := readIndexOn(t, r)
	drive(t, eng, r)
	if err := <-ch; err != nil {
		t.Fatal(err)
	}
	if ok, renew := r.LeaseRead(); !ok || renew {
		t.Fatalf("lease %v, renewal %v after a ReadIndex; want a lease, no renewal yet", ok, renew)
	}
	clock.move(60 * time.Millisecond)
	if ok, renew := r.LeaseRead(); !ok || !renew {
		t.Fatalf("lease %v, renewal %v past half the lease; want both", ok, renew)
	}
	if _, renew := r.LeaseRead(); renew {
		t.Fatal("a second renewal while one is in flight")
	}
	drive(t, eng, r) // the renewal, acknowledged at once by the only voter
	clock.move(90 * time.Millisecond)
	if ok, _ := r.LeaseRead(); !ok {
		t.Fatal("the renewed lease ended before its length from the renewal")
	}
	clock.move(20 * time.Millisecond)
	if ok, _ := r.LeaseRead(); ok {
		t.Fatal("a lease past its length")
	}

	renewed := func() {
		t.Helper()
		ch := readIndexOn(t, r)
		drive(t, eng, r)
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
		if ok, _ := r.LeaseRead(); !ok {
			t.Fatal("no lease after a ReadIndex")
		}
	}
	renewed()
	clock.move(time.Second) // forward jump
	if ok, _ := r.LeaseRead(); ok {
		t.Fatal("a lease after the clock jumped past it")
	}
	renewed()
	leases.SetEnabled(false)
	if ok, _ := r.LeaseRead(); ok {
		t.Fatal("a lease read with leases off")
	}
	leases.SetEnabled(true)
	leases.SetDuration(200 * time.Millisecond)
	if ok, _ := r.LeaseRead(); ok {
		t.Fatal("a lease of the old duration after a change")
	}
	renewed()
	r.mu.Lock()
	r.noteTransfers([]raftpb.Message{{Type: raftpb.MsgTimeoutNow, To: 2, Term: r.raw.BasicStatus().Term}})
	r.mu.Unlock()
	if ok, _ := r.LeaseRead(); ok {
		t.Fatal("a lease after a transfer began in the term")
	}
	ch = readIndexOn(t, r)
	drive(t, eng, r)
	<-ch
	if ok, _ := r.LeaseRead(); ok {
		t.Fatal("a lease granted in a term in which a transfer began")
	}
}

// TestLeaseDuration: the election timeout less two ticks, less the drift
// allowance; nothing when that leaves nothing.
func TestLeaseDuration(t *testing.T) {
	if d := LeaseDuration(100*time.Millisecond, 10); d < 720*time.Millisecond || d > 730*time.Millisecond {
		t.Errorf("LeaseDuration(100ms, 10) = %v, want about 724ms", d)
	}
	if d := LeaseDuration(100*time.Millisecond, 2); d != 0 {
		t.Errorf("LeaseDuration(100ms, 2) = %v, want 0", d)
	}
}

// TestRestartedReplicaHoldsVotes: a replica opened with a raft term on
// disk and a VoteHold drops (pre-)vote requests until the hold ends, but
// not a transfer's.
func TestRestartedReplicaHoldsVotes(t *testing.T) {
	eng := memEngine(t)
	start, end := engine.HashSpan(1, 0, 0)
	commit(t, eng, func(b *engine.Batch) error {
		return Bootstrap(b, 3, []uint64{1, 2, 3}, []*partitapb.Span{{Start: start, End: end}})
	})
	clock := newFakeClock()
	cfg := DefaultConfig()
	cfg.Partition, cfg.ID, cfg.Engine, cfg.LeaseClock, cfg.VoteHold = 3, 1, eng, clock.now, time.Second
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Halt) // before the engine closes: no fill left reading it
	vote := raftpb.Message{Type: raftpb.MsgPreVote, From: 2, To: 1, Term: 6, LogTerm: 5, Index: 10}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.holdsVote(vote) {
		t.Fatal("a pre-vote taken within the hold")
	}
	transfer := vote
	transfer.Context = []byte(campaignTransfer)
	if r.holdsVote(transfer) {
		t.Fatal("a transfer's pre-vote held")
	}
	if r.holdsVote(raftpb.Message{Type: raftpb.MsgHeartbeat, From: 2, To: 1, Term: 6}) {
		t.Fatal("a heartbeat held")
	}
	clock.move(time.Second)
	if r.holdsVote(vote) {
		t.Fatal("a pre-vote held after the hold")
	}
}
