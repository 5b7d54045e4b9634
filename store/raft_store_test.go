package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

// testCluster is n raft stores on real Pebble directories joined by an
// in-memory network.
type testCluster struct {
	t     testing.TB
	tweak func(*store.Config)
	// handler, when set, is what node i's network endpoint delivers to
	// (a filter in front of its store).
	handler func(i int, s *store.Store) transport.Handler
	net     *transport.Inmem
	// separateLog gives the engines a raft log of their own.
	separateLog bool
	dirs        []string
	engs        []*engine.Engine
	stores      []*store.Store
}

// newTestClusterTB is newTestCluster with a given tick interval.
func newTestClusterTB(t testing.TB, n int, tick time.Duration) *testCluster {
	return newTestCluster(t, n, func(cfg *store.Config) { cfg.TickInterval = tick })
}

// separateRaftLog is the raft log layout newTestCluster's engines get:
// in Pebble, or a log of their own (inBothLayouts sets it).
var separateRaftLog bool

// inBothLayouts runs f with the raft logs in Pebble, then in a log of
// their own (engine.Options.SeparateRaftLog).
func inBothLayouts(t *testing.T, f func(t *testing.T)) {
	for _, separate := range []bool{false, true} {
		t.Run(fmt.Sprintf("separate-raft-log=%v", separate), func(t *testing.T) {
			separateRaftLog = separate
			defer func() { separateRaftLog = false }()
			f(t)
		})
	}
}

func newTestCluster(t testing.TB, n int, tweak ...func(*store.Config)) *testCluster {
	c := &testCluster{t: t, net: transport.NewInmem(1), separateLog: separateRaftLog}
	if len(tweak) > 0 {
		c.tweak = tweak[0]
	}
	for i := range n {
		c.dirs = append(c.dirs, t.TempDir())
		c.engs = append(c.engs, nil)
		c.stores = append(c.stores, nil)
		c.start(i)
	}
	t.Cleanup(func() {
		for i := range c.stores {
			c.stop(i)
		}
	})
	return c
}

func (c *testCluster) start(i int) {
	eng, err := engine.Open(engine.Options{Dir: c.dirs[i], SeparateRaftLog: c.separateLog})
	if err != nil {
		c.t.Fatal(err)
	}
	cfg := store.DefaultConfig()
	cfg.NodeID, cfg.Engine, cfg.TickInterval = uint64(i+1), eng, 10*time.Millisecond
	if c.tweak != nil {
		c.tweak(&cfg)
	}
	s, err := store.NewStore(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	var h transport.Handler = s
	if c.handler != nil {
		h = c.handler(i, s)
	}
	s.Start(c.net.Connect(uint64(i+1), h))
	c.engs[i], c.stores[i] = eng, s
}

func (c *testCluster) stop(i int) {
	if c.stores[i] == nil {
		return
	}
	c.net.Disconnect(uint64(i + 1))
	c.stores[i].Stop()
	c.engs[i].Close()
	c.stores[i], c.engs[i] = nil, nil
}

// leader waits for a leader of partition and returns its index.
func (c *testCluster) leader(partition uint64) int {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for i, s := range c.stores {
			if s == nil {
				continue
			}
			if r := s.Replica(partition); r != nil && r.Status().RaftState.String() == "StateLeader" {
				return i
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.t.Fatalf("no leader for partition %d", partition)
	return -1
}

func addCommand(t *testing.T, id string) *partitapb.Command {
	k, _ := engine.DataKey(nil, 1, item.S("counter"), item.Value{})
	return &partitapb.Command{Id: []byte(id), Op: &partitapb.Command_UpdateItem{UpdateItem: &partitapb.UpdateItem{
		Key: k, KeyItem: item.EncodeItem(item.Item{"pk": item.S("counter")}),
		Update: &partitapb.Expression{Text: "ADD n :one", Values: item.EncodeItem(item.Item{":one": item.N(item.MustNumber("1"))})},
	}}}
}

// propose retries cmd on whichever node leads until it applies.
func (c *testCluster) propose(partition uint64, cmd *partitapb.Command) *partitapb.Result {
	for attempt := 0; attempt < 200; attempt++ {
		s := c.stores[c.leader(partition)]
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		res, err := s.Propose(ctx, partition, cmd)
		cancel()
		if err == nil {
			return res
		}
		var nl *replica.NotLeaderError
		if !errors.As(err, &nl) && !errors.Is(err, replica.ErrAmbiguous) && !errors.Is(err, context.DeadlineExceeded) {
			c.t.Fatalf("propose: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatal("proposal never applied")
	return nil
}

func counterOn(t *testing.T, eng *engine.Engine) string {
	k, _ := engine.DataKey(nil, 1, item.S("counter"), item.Value{})
	raw, err := eng.Get(k)
	if err != nil {
		return "missing"
	}
	it, err := item.DecodeItem(raw)
	if err != nil {
		t.Fatal(err)
	}
	return it["n"].N.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestThreeReplicasAgreeAndSurviveLeaderCrash(t *testing.T) {
	inBothLayouts(t, testThreeReplicasAgreeAndSurviveLeaderCrash)
}

func testThreeReplicasAgreeAndSurviveLeaderCrash(t *testing.T) {
	c := newTestCluster(t, 3)
	const p = 2
	for _, s := range c.stores {
		if err := s.Bootstrap(p, []uint64{1, 2, 3}, tableSpan()); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		if res := c.propose(p, addCommand(t, fmt.Sprint("a", i))); res.GetError() != nil {
			t.Fatal(res.GetError())
		}
	}
	// A retried command id applies once.
	c.propose(p, addCommand(t, "a0"))
	waitFor(t, "all replicas at 20", func() bool {
		for _, e := range c.engs {
			if counterOn(t, e) != "20" {
				return false
			}
		}
		return true
	})
	old := c.leader(p)
	c.stop(old)
	for i := range 10 {
		c.propose(p, addCommand(t, fmt.Sprint("b", i)))
	}
	c.start(old)
	waitFor(t, "restarted replica catches up", func() bool { return counterOn(t, c.engs[old]) == "30" })
	// Linearizable read on the leader sees everything.
	l := c.leader(p)
	if err := c.stores[l].ReadIndex(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if got := counterOn(t, c.engs[l]); got != "30" {
		t.Fatalf("leader reads %s after ReadIndex, want 30", got)
	}
}

// tableSpan is the span of table 1, where the tests' items live.
func tableSpan() *partitapb.Span {
	start, end := engine.HashSpan(1, 0, 0)
	return &partitapb.Span{Start: start, End: end}
}

// logEntries counts the raft log entries of partition on eng.
func logEntries(t *testing.T, eng *engine.Engine, partition uint64) int {
	if l := eng.RaftLog(); l != nil {
		st, _ := l.State(partition)
		return int(st.LastIndex - st.TruncIndex)
	}
	lo := engine.LocalKey(partition, "lg")
	it, err := eng.NewIter(lo, engine.LocalKey(partition, "lh"))
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

// TestLogTrimmingAndSnapshotCatchUp keeps the raft log short, so that a
// follower that was down while the log moved on is caught up by a snapshot
// carrying the partition's data.
func TestLogTrimmingAndSnapshotCatchUp(t *testing.T) {
	inBothLayouts(t, testLogTrimmingAndSnapshotCatchUp)
}

func testLogTrimmingAndSnapshotCatchUp(t *testing.T) {
	const maxEntries = 40
	c := newTestCluster(t, 3, func(cfg *store.Config) {
		cfg.Replica.MaxLogEntries, cfg.Replica.TruncateStep = maxEntries, 8
	})
	const p = 2
	start, end := engine.HashSpan(1, 0, 0)
	for _, s := range c.stores {
		if err := s.Bootstrap(p, []uint64{1, 2, 3}, &partitapb.Span{Start: start, End: end}); err != nil {
			t.Fatal(err)
		}
	}
	lagging := (c.leader(p) + 1) % 3
	c.stop(lagging)
	for i := range 200 {
		c.propose(p, addCommand(t, fmt.Sprint("c", i)))
	}
	for i, e := range c.engs {
		if e == nil {
			continue
		}
		if n := logEntries(t, e, p); n > maxEntries+8+1 {
			t.Fatalf("node %d keeps %d log entries, bound %d", i+1, n, maxEntries)
		}
	}
	c.start(lagging)
	waitFor(t, "snapshot catch-up", func() bool { return counterOn(t, c.engs[lagging]) == "200" })
	// The caught-up replica keeps applying new entries from the log.
	c.propose(p, addCommand(t, "after"))
	waitFor(t, "apply after snapshot", func() bool { return counterOn(t, c.engs[lagging]) == "201" })
}
