package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
)

// leaseCluster is a three-node test cluster whose stores report their
// metrics each to its own registry, with partition 2 on every node.
type leaseCluster struct {
	*testCluster
	mu   sync.Mutex
	regs map[uint64]*prometheus.Registry
}

const leaseP = 2

func newLeaseCluster(t *testing.T, tweak func(*store.Config)) *leaseCluster {
	lc := &leaseCluster{regs: make(map[uint64]*prometheus.Registry)}
	lc.testCluster = newTestCluster(t, 3, func(cfg *store.Config) {
		reg := prometheus.NewRegistry()
		lc.mu.Lock()
		lc.regs[cfg.NodeID] = reg
		lc.mu.Unlock()
		cfg.Registerer = reg
		if tweak != nil {
			tweak(cfg)
		}
	})
	for _, s := range lc.stores {
		if err := s.Bootstrap(leaseP, []uint64{1, 2, 3}, tableSpan()); err != nil {
			t.Fatal(err)
		}
	}
	return lc
}

// reads returns node i's consistent reads served by lease and by
// ReadIndex.
func (lc *leaseCluster) reads(t *testing.T, i int) (lease, readIndex int) {
	t.Helper()
	lc.mu.Lock()
	reg := lc.regs[uint64(i+1)]
	lc.mu.Unlock()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "partita_store_consistent_reads_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			switch m.GetLabel()[0].GetValue() {
			case "lease":
				lease = int(m.GetCounter().GetValue())
			case "read_index":
				readIndex = int(m.GetCounter().GetValue())
			}
		}
	}
	return lease, readIndex
}

// readCounter reads the counter item from node i with a strongly
// consistent Get bounded by timeout.
func (lc *leaseCluster) readCounter(t *testing.T, i int, timeout time.Duration) (string, error) {
	t.Helper()
	k, _ := engine.DataKey(nil, 1, item.S("counter"), item.Value{})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	raw, err := lc.stores[i].Get(ctx, leaseP, k, true)
	if err != nil {
		return "", err
	}
	if raw == nil {
		return "missing", nil
	}
	it, err := item.DecodeItem(raw)
	if err != nil {
		t.Fatal(err)
	}
	return it["n"].N.String(), nil
}

// TestLeaseReadsSkipTheRoundTrip: once a leader's ReadIndex is
// acknowledged, its next consistent reads are served from its lease;
// with raft.lease-reads off (SetLeaseReads), every one takes ReadIndex.
func TestLeaseReadsSkipTheRoundTrip(t *testing.T) {
	c := newLeaseCluster(t, nil)
	c.propose(leaseP, addCommand(t, "a"))
	l := c.leader(leaseP)
	for range 20 {
		if got, err := c.readCounter(t, l, 5*time.Second); err != nil || got != "1" {
			t.Fatalf("consistent read on the leader: %q, %v; want 1", got, err)
		}
	}
	lease, ri := c.reads(t, l)
	if lease == 0 || ri == 0 {
		t.Fatalf("reads by lease %d, by ReadIndex %d: want both (a first ReadIndex grants the lease)", lease, ri)
	}
	c.stores[l].SetLeaseReads(false)
	for range 5 {
		if got, err := c.readCounter(t, l, 5*time.Second); err != nil || got != "1" {
			t.Fatalf("consistent read on the leader: %q, %v; want 1", got, err)
		}
	}
	if lease2, ri2 := c.reads(t, l); lease2 != lease || ri2 != ri+5 {
		t.Fatalf("with leases off: by lease %d -> %d, by ReadIndex %d -> %d; want every read by ReadIndex", lease, lease2, ri, ri2)
	}
}

// TestPausedOldLeaderServesNoStaleRead: a leader that stops (its ticks
// paused: it never finds out it lost its quorum, as a process stopped by
// SIGSTOP) and is cut off while the others elect a leader and write must
// not answer a consistent read with the value it had: its lease has run
// out, and its ReadIndex finds no quorum. Without the lease's expiry it
// answers 1 after 2 was acknowledged.
func TestPausedOldLeaderServesNoStaleRead(t *testing.T) {
	c := newLeaseCluster(t, nil)
	c.propose(leaseP, addCommand(t, "a"))
	old := c.leader(leaseP)
	waitFor(t, "a read served by the leader's lease", func() bool {
		if got, err := c.readCounter(t, old, 5*time.Second); err != nil || got != "1" {
			t.Fatalf("consistent read on the leader: %q, %v; want 1", got, err)
		}
		lease, _ := c.reads(t, old)
		return lease > 0
	})
	c.stores[old].HoldTicks(true) // paused: no more ticks, no CheckQuorum step-down
	c.net.Partition(uint64(old + 1))

	newLeader := -1
	waitFor(t, "a new leader among the others", func() bool {
		for i, s := range c.stores {
			if st := s.Replica(leaseP).Status(); i != old && st.RaftState.String() == "StateLeader" {
				newLeader = i
				return true
			}
		}
		return false
	})
	if old == newLeader {
		t.Fatal("the old leader re-elected")
	}
	write(t, c.stores[newLeader], "b")
	if got, err := c.readCounter(t, newLeader, 5*time.Second); err != nil || got != "2" {
		t.Fatalf("consistent read on the new leader: %q, %v; want 2", got, err)
	}
	if st := c.stores[old].Replica(leaseP).Status(); st.RaftState.String() != "StateLeader" {
		t.Fatalf("the paused old leader is %v, the test needs it to believe it leads", st.RaftState)
	}
	got, err := c.readCounter(t, old, 300*time.Millisecond)
	if err == nil {
		t.Fatalf("the cut-off old leader answered a consistent read with %s after 2 was acknowledged", got)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the cut-off old leader's read failed with %v, want it to wait for a quorum", err)
	}
}

// write proposes the ADD command id to s until it applies there (s
// leads).
func write(t *testing.T, s *store.Store, id string) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := s.Propose(ctx, leaseP, addCommand(t, id))
		cancel()
		if err == nil {
			return
		}
		var nl *replica.NotLeaderError
		if attempt > 100 || (!errors.As(err, &nl) && !errors.Is(err, replica.ErrAmbiguous) && !errors.Is(err, context.DeadlineExceeded)) {
			t.Fatalf("write: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRestartedVoterKeepsItsPromise: a follower that acknowledged the
// leader's lease and restarts at once has forgotten, in raft, that it
// heard from a leader; it must still not help elect another before the
// lease can have run out. Node old leads, with its link to other cut;
// voter acknowledges its lease; then old stops (paused and cut off),
// voter restarts and other campaigns: neither may win and write before
// old's lease expires. Without the vote hold (replica.Config.VoteHold)
// old answers a consistent read with the value before other's write.
func TestRestartedVoterKeepsItsPromise(t *testing.T) {
	c := newLeaseCluster(t, func(cfg *store.Config) {
		cfg.TickInterval, cfg.Replica.ElectionTicks = 20*time.Millisecond, 50 // leases of 870ms
	})
	c.propose(leaseP, addCommand(t, "a"))
	old := c.leader(leaseP)
	voter, other := (old+1)%3, (old+2)%3
	c.net.Cut(uint64(old+1), uint64(other+1))
	c.net.Cut(uint64(other+1), uint64(old+1))
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) { // keep the lease renewed, through voter
		if got, err := c.readCounter(t, old, 5*time.Second); err != nil || got != "1" {
			t.Fatalf("consistent read on the leader: %q, %v; want 1", got, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if lease, _ := c.reads(t, old); lease == 0 {
		t.Fatal("no read served by the lease")
	}
	c.stores[old].HoldTicks(true)
	c.net.Partition(uint64(old + 1))
	c.stop(voter)
	c.start(voter)
	// One campaign every 500 ms: a campaign restarted every few
	// milliseconds raises the term before a loaded machine's vote
	// answers arrive, and never wins. The restarted voter may win instead
	// (its own election timer, once its hold is over, and other's vote):
	// a leader then ignores other's campaigns, and either is the new
	// leader the old one must not serve a stale read past.
	leads := func(i int) bool { return c.stores[i].Replica(leaseP).Status().RaftState.String() == "StateLeader" }
	next := -1
	for deadline := time.Now().Add(30 * time.Second); next < 0; {
		if err := c.stores[other].Campaign(leaseP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		for _, i := range []int{other, voter} {
			if next < 0 && leads(i) {
				next = i
			}
		}
		if next < 0 && time.Now().After(deadline) {
			t.Fatal("timed out waiting for other or the restarted voter to lead")
		}
	}
	write(t, c.stores[next], "b")
	got, err := c.readCounter(t, old, 100*time.Millisecond)
	if err == nil {
		t.Fatalf("the cut-off old leader answered a consistent read with %s after 2 was acknowledged", got)
	}
}
