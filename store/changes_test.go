package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
)

// withChangeLog gives every store a change log of table 1 keeping view.
func withChangeLog(view partitapb.ChangeView, tweak func(*store.Config)) func(*store.Config) {
	return func(cfg *store.Config) {
		logs := &replica.ChangeLogs{}
		logs.SetTables(map[uint64]replica.TableChangeLog{1: {View: view}})
		cfg.Replica.ChangeLogs = logs
		if tweak != nil {
			tweak(cfg)
		}
	}
}

// addTo is an UpdateItem ADD n 1 of the item pk, with command id id.
func addTo(id, pk string) *partitapb.Command {
	k, _ := engine.DataKey(nil, 1, item.S(pk), item.Value{})
	return &partitapb.Command{Id: []byte(id), UnixNanos: time.Now().UnixNano(), Op: &partitapb.Command_UpdateItem{UpdateItem: &partitapb.UpdateItem{
		Key: k, KeyItem: item.EncodeItem(item.Item{"pk": item.S(pk)}),
		Update: &partitapb.Expression{Text: "ADD n :one", Values: item.EncodeItem(item.Item{":one": item.N(item.MustNumber("1"))})},
	}}}
}

// tryPropose proposes cmd to partition's leader until it applies, or
// fails (a goroutine's c.propose: no t.Fatal).
func (c *testCluster) tryPropose(partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	var last error
	for range 200 {
		i := -1
		for j, s := range c.stores {
			if s == nil {
				continue
			}
			if r := s.Replica(partition); r != nil && r.Status().RaftState.String() == "StateLeader" {
				i = j
			}
		}
		if i < 0 {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		res, err := c.stores[i].Propose(ctx, partition, cmd)
		cancel()
		if err == nil {
			return res, nil
		}
		var nl *replica.NotLeaderError
		if !errors.As(err, &nl) && !errors.Is(err, replica.ErrAmbiguous) && !errors.Is(err, context.DeadlineExceeded) &&
			!errors.Is(err, replica.ErrNotReady) {
			return nil, err
		}
		last = err
		time.Sleep(5 * time.Millisecond)
	}
	return nil, fmt.Errorf("proposal of %q never applied: %w", cmd.GetId(), last)
}

// readLog returns partition's whole change log on node i, as it applied
// it.
func (c *testCluster) readLog(t *testing.T, i int, partition uint64) fsm.Changes {
	t.Helper()
	ch, err := c.stores[i].ReadChanges(context.Background(), partition, 0, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// describeLog prints a change log, one record a line.
func describeLog(ch fsm.Changes) string {
	var b strings.Builder
	fmt.Fprintf(&b, "first %d last %d\n", ch.First, ch.Last)
	for _, r := range ch.Records {
		fmt.Fprintf(&b, "%d %d %s %x %x %x\n", r.Seq, r.Record.GetUnixNanos(), r.Record.GetKind(),
			r.Record.GetKey(), r.Record.GetOldImage(), r.Record.GetNewImage())
	}
	return b.String()
}

// waitSameState waits until every node has applied the same index of
// partition and holds the same replicated state (its change log among
// it), and fails otherwise: the apply-determinism check.
func (c *testCluster) waitSameState(t *testing.T, partitions ...uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		why := c.stateDiffers(t, partitions)
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replicated states differ: %s", why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stateDiffers says how the nodes' replicated states of partitions
// differ ("": they do not).
func (c *testCluster) stateDiffers(t *testing.T, partitions []uint64) string {
	for _, p := range partitions {
		var applied []uint64
		var dumps []string
		for i, s := range c.stores {
			r := s.Replica(p)
			if r == nil {
				return fmt.Sprintf("node %d has no replica of %d", i+1, p)
			}
			// Held for a round, the replica's lock keeps the engine and
			// the applied index in step.
			r.Lock()
			applied = append(applied, r.Applied())
			lo := engine.LocalKey(p, engine.ReplicatedLocal)
			dumps = append(dumps, dump(t, c.engs[i], lo, append(lo[:len(lo):len(lo)], 0xff)))
			r.Unlock()
		}
		for i := range applied {
			if applied[i] != applied[0] || dumps[i] != dumps[0] {
				return fmt.Sprintf("partition %d: node %d at %d, node 1 at %d (states equal: %v)",
					p, i+1, applied[i], applied[0], dumps[i] == dumps[0])
			}
		}
	}
	return ""
}

// checkCounters checks that the change records of each item, read in
// order, count it up 1, 2, 3 ... to its final value: no write lost, none
// logged twice, in the order it applied.
func checkCounters(t *testing.T, recs []fsm.Change, final map[string]int) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range recs {
		it, err := item.DecodeItem(r.Record.GetNewImage())
		if err != nil {
			t.Fatal(err)
		}
		pk := it["pk"].S
		n := it["n"].N.String()
		seen[pk]++
		if want := fmt.Sprint(seen[pk]); n != want {
			t.Fatalf("record %d of %s sets n to %s, want %s", r.Seq, pk, n, want)
		}
		wantKind := partitapb.ChangeKind_MODIFY
		if seen[pk] == 1 {
			wantKind = partitapb.ChangeKind_INSERT
		}
		if r.Record.GetKind() != wantKind {
			t.Fatalf("record %d of %s is %s, want %s", r.Seq, pk, r.Record.GetKind(), wantKind)
		}
	}
	for pk, n := range final {
		if seen[pk] != n {
			t.Fatalf("%s: %d records, %d writes applied", pk, seen[pk], n)
		}
	}
}

// TestChangeLogOnThreeReplicas writes from several clients to a
// partition of three replicas, through a leader crash and a follower
// caught up by a snapshot: every replica holds the same change log (dense
// sequences, one record per applied write, each item's records in the
// order its writes applied) and the same replicated state.
func TestChangeLogOnThreeReplicas(t *testing.T) {
	c := newTestCluster(t, 3, withChangeLog(partitapb.ChangeView_NEW_AND_OLD_IMAGES, func(cfg *store.Config) {
		cfg.Replica.MaxLogEntries, cfg.Replica.TruncateStep = 40, 8
	}))
	const p = 2
	for _, s := range c.stores {
		if err := s.Bootstrap(p, []uint64{1, 2, 3}, tableSpan()); err != nil {
			t.Fatal(err)
		}
	}
	final := map[string]int{}
	var mu sync.Mutex
	write := func(round string, n int) {
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range n {
					pk := fmt.Sprint("w", w, "k", i%3)
					if _, err := c.tryPropose(p, addTo(fmt.Sprint(round, w, "-", i), pk)); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					final[pk]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	write("a", 15)
	old := c.leader(p)
	c.stop(old)
	write("b", 5)
	c.start(old)
	// A follower misses what follows, past the log's bound, and catches
	// up from a snapshot carrying the log.
	lagging := (c.leader(p) + 1) % 3
	c.stop(lagging)
	write("c", 30)
	c.start(lagging)
	write("d", 5)
	c.waitSameState(t, p)
	total := 0
	for _, n := range final {
		total += n
	}
	want := describeLog(c.readLog(t, 0, p))
	for i := range c.stores {
		ch := c.readLog(t, i, p)
		if ch.First != 1 || ch.Last != uint64(total) || len(ch.Records) != total {
			t.Fatalf("node %d: log [%d, %d] with %d records, %d writes applied", i+1, ch.First, ch.Last, len(ch.Records), total)
		}
		if got := describeLog(ch); got != want {
			t.Fatalf("node %d holds another change log", i+1)
		}
		checkCounters(t, ch.Records, final)
	}
	// A consistent read, on the leader, after its read barrier.
	ch, err := c.stores[c.leader(p)].ReadChanges(context.Background(), p, uint64(total)-3, 2, true)
	if err != nil || len(ch.Records) != 2 || ch.Records[0].Seq != uint64(total)-2 || ch.Last != uint64(total) {
		t.Fatalf("consistent read of 2 records after %d: %+v %v", total-3, ch, err)
	}
}

// TestChangeLogSplitMidStream splits a partition while four clients
// write to it: the right half's log starts with the left's log up to the
// split as its parent, and reading the parent up to there, then each
// half's own log, gives every item's writes once each, in order.
func TestChangeLogSplitMidStream(t *testing.T) {
	c := newTestCluster(t, 3, withChangeLog(partitapb.ChangeView_NEW_IMAGE, nil))
	for _, s := range c.stores {
		if err := s.Bootstrap(splitLeft, []uint64{1, 2, 3}, tableSpan()); err != nil {
			t.Fatal(err)
		}
	}
	final := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	progress := make(chan struct{}, 400)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 60 {
				pk := fmt.Sprint("w", w, "k", i%5)
				cmd := addTo(fmt.Sprint(w, "-", i), pk)
				// The router's part: a write the left refuses goes right.
				res, err := c.tryPropose(splitLeft, cmd)
				if err == nil && partitapb.IsWrongRange(res.GetError()) {
					res, err = c.tryPropose(splitRight, cmd)
				}
				if err == nil && res.GetError() != nil {
					err = res.GetError()
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				final[pk]++
				mu.Unlock()
				progress <- struct{}{}
			}
		}()
	}
	for range 80 {
		<-progress
	}
	if res := c.propose(splitLeft, splitCommand()); res.GetError() != nil {
		t.Fatalf("split: %v", res.GetError())
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	c.waitSameState(t, splitLeft, splitRight)
	for i := range c.stores {
		left, right := c.readLog(t, i, splitLeft), c.readLog(t, i, splitRight)
		segs, err := c.stores[i].ChangeSegments(context.Background(), splitRight)
		if err != nil {
			t.Fatal(err)
		}
		if len(segs) != 1 || len(segs[0].GetParents()) != 1 || segs[0].GetParents()[0].GetPartition() != splitLeft {
			t.Fatalf("node %d: the right half's segments are %v", i+1, segs)
		}
		at := segs[0].GetParents()[0].GetLastSeq()
		lsegs, err := c.stores[i].ChangeSegments(context.Background(), splitLeft)
		if err != nil {
			t.Fatal(err)
		}
		if len(lsegs) != 1 || lsegs[0].GetFirstSeq() != at+1 || lsegs[0].GetRangeGeneration() != 2 {
			t.Fatalf("node %d: the left half's segments are %v, split after %d", i+1, lsegs, at)
		}
		if at < 80 || right.Last == 0 || left.Last == at {
			t.Fatalf("node %d: split after record %d, the halves wrote %d and %d after it: not mid-stream",
				i+1, at, left.Last-at, right.Last)
		}
		// The parent's records (both halves' keys), then each half's.
		parent, after := left.Records[:at], left.Records[at:]
		for _, r := range after {
			if item.Hash(mustPK(t, r)) >= splitHash {
				t.Fatalf("node %d: the left half logged a key of the right", i+1)
			}
		}
		all := append(append(append([]fsm.Change(nil), parent...), after...), right.Records...)
		checkCounters(t, all, final)
		if i == 0 {
			t.Logf("split after record %d; then %d records on the left, %d on the right", at, left.Last-at, right.Last)
		}
	}
}

func mustPK(t *testing.T, r fsm.Change) item.Value {
	it, err := item.DecodeItem(r.Record.GetNewImage())
	if err != nil {
		t.Fatal(err)
	}
	return it["pk"]
}

// TestChangeLogRetention: with a retention of 200ms, the leader trims
// the records older than that as it writes, on every replica alike, and
// a reader from before the first retained record learns it lost some.
func TestChangeLogRetention(t *testing.T) {
	const retention = 200 * time.Millisecond
	c := newTestCluster(t, 3, func(cfg *store.Config) {
		logs := &replica.ChangeLogs{}
		logs.SetTables(map[uint64]replica.TableChangeLog{1: {View: partitapb.ChangeView_KEYS_ONLY, Retention: retention}})
		cfg.Replica.ChangeLogs = logs
	})
	const p = 2
	for _, s := range c.stores {
		if err := s.Bootstrap(p, []uint64{1, 2, 3}, tableSpan()); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		c.propose(p, addTo(fmt.Sprint("old", i), "k"))
	}
	time.Sleep(retention + 50*time.Millisecond)
	for i := range 5 {
		c.propose(p, addTo(fmt.Sprint("new", i), "k"))
	}
	c.waitSameState(t, p)
	for i := range c.stores {
		ch := c.readLog(t, i, p)
		if ch.First != 21 || ch.Last != 25 || len(ch.Records) != 5 || !ch.Trimmed {
			t.Fatalf("node %d: log [%d, %d] with %d records (trimmed %v), want [21, 25]", i+1, ch.First, ch.Last, len(ch.Records), ch.Trimmed)
		}
		if after, err := c.stores[i].ReadChanges(context.Background(), p, 20, 0, false); err != nil || after.Trimmed || len(after.Records) != 5 {
			t.Fatalf("node %d: read after 20: %+v %v", i+1, after, err)
		}
	}
}

// TestChangeLogMerge merges the halves of a split back on three nodes:
// the left adopts the right half's log, the same on every node, and its
// new segment names both halves' logs as parents.
func TestChangeLogMerge(t *testing.T) {
	c := newTestCluster(t, 3, withChangeLog(partitapb.ChangeView_NEW_IMAGE, nil))
	c.splitThenFreeze(t)
	ctx := context.Background()
	right := c.readLog(t, c.leader(splitRight), splitRight)
	left := c.readLog(t, c.leader(splitLeft), splitLeft)
	if right.Last == 0 || left.Last == 0 {
		t.Fatalf("the halves logged %d and %d writes", left.Last, right.Last)
	}
	if res := c.propose(splitLeft, mergeCommand()); res.GetError() != nil || !res.GetMerge().GetMerged() {
		t.Fatalf("merge: %v", res)
	}
	c.waitMerged(t) // the left's replicated state, adopted log included, alike everywhere
	for i, s := range c.stores {
		adopted, err := s.ReadAdoptedChanges(ctx, splitLeft, splitRight, 0, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		if describeLog(adopted) != describeLog(right) {
			t.Fatalf("node %d adopted\n%s\nthe right half logged\n%s", i+1, describeLog(adopted), describeLog(right))
		}
		segs, err := s.ChangeSegments(ctx, splitLeft)
		if err != nil {
			t.Fatal(err)
		}
		last := segs[len(segs)-1]
		if last.GetRangeGeneration() != 3 || len(last.GetParents()) != 2 ||
			last.GetParents()[0].GetLastSeq() != left.Last || last.GetParents()[1].GetLastSeq() != right.Last {
			t.Fatalf("node %d: the merged segment is %v; the halves ended at %d and %d", i+1, last, left.Last, right.Last)
		}
	}
}

// TestChangeViewHintYieldsToANewerRecord: a leader logs a write with the
// view of the newer of two table records, its node's and the one the
// command's router read (Command.change_view at change_view_revision).
// A router whose cache has not yet seen a view turned off must not turn
// it back on (CI: TestChangeViewThroughAdmin logged a put made after the
// view became NONE); one that saw a view turned on before this node did
// logs the write; a hint without a revision (a router before the field)
// counts only where this node's view is none.
func TestChangeViewHintYieldsToANewerRecord(t *testing.T) {
	logs := &replica.ChangeLogs{}
	c := newTestCluster(t, 1, func(cfg *store.Config) { cfg.Replica.ChangeLogs = logs })
	const p = 2
	if err := c.stores[0].Bootstrap(p, []uint64{1}, tableSpan()); err != nil {
		t.Fatal(err)
	}
	n, known := 0, true
	write := func(node partitapb.ChangeView, nodeRev uint64, hint partitapb.ChangeView, hintRev uint64, logged bool) {
		t.Helper()
		logs.SetTables(nil)
		if known {
			logs.SetTables(map[uint64]replica.TableChangeLog{1: {View: node, Revision: nodeRev}})
		}
		n++
		cmd := addTo(fmt.Sprint("w", n), "k")
		cmd.ChangeView, cmd.ChangeViewRevision = hint, hintRev
		c.propose(p, cmd)
		before := len(c.readLog(t, 0, p).Records)
		cmd = addTo(fmt.Sprint("w", n, "b"), "k")
		cmd.ChangeView, cmd.ChangeViewRevision = hint, hintRev
		c.propose(p, cmd)
		if got := len(c.readLog(t, 0, p).Records) - before; got != map[bool]int{false: 0, true: 1}[logged] {
			t.Fatalf("node's view %v at %d, hint %v at %d: %d records, want logged %v", node, nodeRev, hint, hintRev, got, logged)
		}
	}
	const none, both = partitapb.ChangeView_CHANGE_VIEW_NONE, partitapb.ChangeView_NEW_AND_OLD_IMAGES
	write(none, 5, both, 4, false) // the hint predates the view's removal
	write(none, 5, both, 5, false)
	write(none, 5, both, 6, true) // the view was turned on after this node's record
	write(none, 5, both, 0, true) // no revision: the hint fills a missing view
	write(both, 7, none, 6, true)
	write(both, 7, none, 8, false) // turned off after this node's record
	write(both, 7, none, 0, true)
	known = false
	write(none, 0, both, 3, true) // this node knows no such table
	write(none, 0, none, 3, false)
}
