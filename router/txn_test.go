package router_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/route"
	"github.com/partitadb/partita/router"
)

// txnClock is a clock the test moves.
type txnClock struct{ nanos atomic.Int64 }

func (c *txnClock) now() time.Time      { return time.Unix(0, c.nanos.Load()) }
func (c *txnClock) add(d time.Duration) { c.nanos.Add(int64(d)) }
func newTxnClock() *txnClock            { c := &txnClock{}; c.nanos.Store(time.Now().UnixNano()); return c }
func txnKey(i int) item.Item            { return item.Item{"pk": item.S(fmt.Sprint("acct", i))} }
func txnItem(i, v int) item.Item {
	it := txnKey(i)
	it["v"] = item.N(item.MustNumber(fmt.Sprint(v)))
	return it
}
func txnTable() *partitapb.Table { t := table(); t.KeySchema = t.KeySchema[:1]; return t }
func putAction(r *router.Router, tbl *partitapb.Table, it item.Item, t *testing.T) router.TxnAction {
	t.Helper()
	sk, err := r.StorageKey(tbl, item.Item{"pk": it["pk"]})
	if err != nil {
		t.Fatal(err)
	}
	return router.TxnAction{Table: tbl, Prepare: &partitapb.TxnPrepare{Key: sk,
		Action: &partitapb.TxnPrepare_Put{Put: &partitapb.PutItem{Key: sk, Item: item.EncodeItem(it)}}}}
}

// twoRouters returns two routers ("nodes") over one store sharing clock,
// and a table of 8 partitions.
func twoRouters(t *testing.T, clock *txnClock) (a, b *router.Router, tbl *partitapb.Table) {
	t.Helper()
	a, b, tbl, _ = twoRoutersEngine(t, clock)
	return a, b, tbl
}

// twoRoutersEngine is twoRouters, with the store's engine.
func twoRoutersEngine(t *testing.T, clock *txnClock) (a, b *router.Router, tbl *partitapb.Table, eng *engine.Engine) {
	t.Helper()
	eng, s := startStore(t)
	a, b = txnRouter(t, s, route.LocalStore(s.Store), clock), txnRouter(t, s, route.LocalStore(s.Store), clock)
	if _, err := a.CreateTable(context.Background(), txnTable()); err != nil {
		t.Fatal(err)
	}
	tbl, err := a.Table(context.Background(), "t")
	if err != nil {
		t.Fatal(err)
	}
	return a, b, tbl, eng
}

// txnRouter returns a router ("node") over s, reaching it through local,
// for tables of 8 partitions, on clock.
func txnRouter(t *testing.T, s singleNode, local route.Local, clock *txnClock) *router.Router {
	t.Helper()
	return routerOn(t, s, local, 8, func(c *router.Config) { c.Now = clock.now })
}

func readV(t *testing.T, r *router.Router, tbl *partitapb.Table, i int) string {
	t.Helper()
	got, err := r.Get(context.Background(), tbl, txnKey(i), true)
	if err != nil {
		t.Fatalf("get %d: %v", i, err)
	}
	if got == nil {
		return "absent"
	}
	return got["v"].N.String()
}

// A coordinator that dies after its prepares leaves intents: a write
// meets them as a conflict until the deadline, then aborts the
// transaction and goes through; nothing of the transaction applies.
func TestTxnRecoveryAbortsPendingAfterDeadline(t *testing.T) {
	clock := newTxnClock()
	a, b, tbl := twoRouters(t, clock)
	ctx := context.Background()
	actions := []router.TxnAction{putAction(a, tbl, txnItem(1, 10), t), putAction(a, tbl, txnItem(2, 20), t)}
	out, err := a.TransactPrepared(ctx, actions)
	if err != nil || !out.Prepared() {
		t.Fatalf("prepare: %v %v", out, err)
	}
	cmd := func(i, v int) *partitapb.Command {
		sk, _ := b.StorageKey(tbl, txnKey(i))
		return &partitapb.Command{Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: sk, Item: item.EncodeItem(txnItem(i, v))}}}
	}
	res, err := b.Write(ctx, tbl, txnKey(1), cmd(1, 99))
	if err != nil || res.GetError().GetCode() != partitapb.Error_TXN_CONFLICT {
		t.Fatalf("write over a live intent: %v %v, want TXN_CONFLICT", res, err)
	}
	clock.add(router.TxnDeadline + time.Second)
	res, err = b.Write(ctx, tbl, txnKey(1), cmd(1, 99))
	if err != nil || res.GetError() != nil {
		t.Fatalf("write over an expired intent: %v %v", res.GetError(), err)
	}
	if got := readV(t, b, tbl, 1); got != "99" {
		t.Fatalf("item 1 = %s, want 99", got)
	}
	// Item 2's intent is recovered by the read that meets it.
	if got := readV(t, b, tbl, 2); got != "absent" {
		t.Fatalf("item 2 = %s, want absent (the transaction aborted)", got)
	}
}

// A coordinator that dies after the commit point leaves a committed
// record and unresolved intents: a reader waits, then finishes the
// transaction; both items show its writes.
func TestTxnRecoveryFinishesCommitted(t *testing.T) {
	clock := newTxnClock()
	a, b, tbl := twoRouters(t, clock)
	ctx := context.Background()
	actions := []router.TxnAction{putAction(a, tbl, txnItem(1, 10), t), putAction(a, tbl, txnItem(2, 20), t)}
	out, err := a.TransactCommitted(ctx, actions)
	if err != nil || !out.Committed {
		t.Fatalf("commit: %v %v", out, err)
	}
	clock.add(router.TxnDeadline + time.Second)
	if got := readV(t, b, tbl, 2); got != "20" {
		t.Fatalf("item 2 = %s, want 20", got)
	}
	if got := readV(t, b, tbl, 1); got != "10" {
		t.Fatalf("item 1 = %s, want 10", got)
	}
	// A late coordinator may not abort what committed.
	out, err = b.TransactWrite(ctx, []router.TxnAction{putAction(b, tbl, txnItem(1, 11), t)})
	if err != nil || !out.Committed {
		t.Fatalf("next transaction: %v %v", out, err)
	}
	if got := readV(t, a, tbl, 1); got != "11" {
		t.Fatalf("item 1 = %s, want 11", got)
	}
}

// loseAbortAnswer is a store whose first answer to a recovery's abort of
// a transaction record is lost after the abort applied, as when the
// anchor's leader dies before answering: the sender then retries the same
// command, which its at-most-once record answers.
type loseAbortAnswer struct {
	route.Local
	lost    atomic.Bool
	retried atomic.Pointer[partitapb.Result] // the retry's answer
}

func (l *loseAbortAnswer) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	s := cmd.GetTxnSetStatus()
	abort := s != nil && !s.GetCoordinator() && s.GetStatus() == partitapb.TxnStatus_TXN_ABORTED
	res, err := l.Local.Propose(ctx, partition, cmd)
	switch {
	case abort && err == nil && l.lost.CompareAndSwap(false, true):
		return nil, replica.ErrAmbiguous
	case abort && err == nil && !cmd.GetFirstAttempt():
		l.retried.CompareAndSwap(nil, res)
	}
	return res, err
}

// A recovery whose abort of a committed transaction's record applied but
// whose answer was lost learns the record's status all the same: its
// retry, answered from the at-most-once record, carries no transaction
// record, and it must not take that for an abort. Both items show the
// transaction's writes (before, the item the recovery met lost its
// intent: half a transfer, TestBank's crash-all scenario).
func TestTxnRecoveryWithALostAnswerKeepsTheCommit(t *testing.T) {
	clock := newTxnClock()
	_, s := startStore(t)
	lose := &loseAbortAnswer{Local: route.LocalStore(s.Store)}
	coordinator, reader := txnRouter(t, s, route.LocalStore(s.Store), clock), txnRouter(t, s, lose, clock)
	ctx := context.Background()
	if _, err := coordinator.CreateTable(ctx, txnTable()); err != nil {
		t.Fatal(err)
	}
	tbl, err := coordinator.Table(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	actions := []router.TxnAction{putAction(coordinator, tbl, txnItem(1, 10), t), putAction(coordinator, tbl, txnItem(2, 20), t)}
	out, err := coordinator.TransactCommitted(ctx, actions)
	if err != nil || !out.Committed {
		t.Fatalf("commit: %v %v", out, err)
	}
	clock.add(router.TxnDeadline + time.Second)
	if got := readV(t, reader, tbl, 2); got != "20" {
		t.Fatalf("item 2 = %s, want 20", got)
	}
	if got := readV(t, reader, tbl, 1); got != "10" {
		t.Fatalf("item 1 = %s, want 10", got)
	}
	if !lose.lost.Load() {
		t.Fatal("no recovery's answer was lost: the test did not test")
	}
	if res := lose.retried.Load(); res == nil || res.GetTxnRecord() != nil {
		t.Fatalf("the retried abort answered %v: want an answer without the record, from the at-most-once record", res)
	}
}

// A transaction that meets another's live intent is cancelled with a
// conflict on that item, and writes nothing.
func TestTxnConflictCancels(t *testing.T) {
	clock := newTxnClock()
	a, b, tbl := twoRouters(t, clock)
	ctx := context.Background()
	if _, err := a.TransactPrepared(ctx, []router.TxnAction{putAction(a, tbl, txnItem(2, 20), t)}); err != nil {
		t.Fatal(err)
	}
	out, err := b.TransactWrite(ctx, []router.TxnAction{putAction(b, tbl, txnItem(1, 1), t), putAction(b, tbl, txnItem(2, 2), t)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Committed || out.Results[0].GetError() != nil || out.Results[1].GetError().GetCode() != partitapb.Error_TXN_CONFLICT {
		t.Fatalf("outcome %v, want cancelled by a conflict on the second item", out)
	}
	if got := readV(t, b, tbl, 1); got != "absent" {
		t.Fatalf("item 1 = %s, want absent", got)
	}
}

// holdPrepare is a store that holds the prepare of key until the
// prepare of first has answered and release has run (once).
type holdPrepare struct {
	route.Local
	first, key []byte
	release    func()
	locked     chan struct{}
	once       sync.Once
}

func (h *holdPrepare) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	p := cmd.GetTxnPrepare()
	switch {
	case p != nil && bytes.Equal(p.GetKey(), h.first):
		res, err := h.Local.Propose(ctx, partition, cmd)
		close(h.locked)
		return res, err
	case p != nil && bytes.Equal(p.GetKey(), h.key):
		<-h.locked
		h.once.Do(h.release)
	}
	return h.Local.Propose(ctx, partition, cmd)
}

// A read transaction that stalls past its deadline between its locks is
// aborted by a recovery, which releases the lock it holds; a transfer
// then changes the item it read and the one it has not read yet. It must
// not answer with that torn snapshot: its commit is refused, and it is
// cancelled with a conflict.
func TestTxnReadAbortedBetweenLocksIsCancelled(t *testing.T) {
	clock := newTxnClock()
	_, s := startStore(t)
	mk := func(local route.Local) *router.Router { return txnRouter(t, s, local, clock) }
	writer := mk(route.LocalStore(s.Store))
	ctx := context.Background()
	if _, err := writer.CreateTable(ctx, txnTable()); err != nil {
		t.Fatal(err)
	}
	tbl, err := writer.Table(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		if out, err := writer.TransactWrite(ctx, []router.TxnAction{putAction(writer, tbl, txnItem(i, 50), t)}); err != nil || !out.Committed {
			t.Fatalf("open item %d: %v %v", i, out, err)
		}
	}
	lock := func(i int) router.TxnAction {
		sk, err := writer.StorageKey(tbl, txnKey(i))
		if err != nil {
			t.Fatal(err)
		}
		return router.TxnAction{Table: tbl, Prepare: &partitapb.TxnPrepare{Key: sk,
			Action: &partitapb.TxnPrepare_Check{Check: &partitapb.Expression{}}}}
	}
	actions := []router.TxnAction{lock(1), lock(2)}
	hold := &holdPrepare{Local: route.LocalStore(s.Store), first: actions[0].Prepare.GetKey(),
		key: actions[1].Prepare.GetKey(), locked: make(chan struct{})}
	hold.release = func() {
		// The reader holds its lock on item 1, then stalls past its
		// deadline: a transfer recovers it and moves 10 from item 1 to
		// item 2.
		clock.add(router.TxnDeadline + time.Second)
		out, err := writer.TransactWrite(ctx, []router.TxnAction{putAction(writer, tbl, txnItem(1, 40), t), putAction(writer, tbl, txnItem(2, 60), t)})
		if err != nil || !out.Committed {
			t.Errorf("transfer over the stalled reader: %v %v", out, err)
		}
	}
	out, err := mk(hold).TransactGet(ctx, actions)
	if err != nil {
		t.Fatal(err)
	}
	if out.Prepared() {
		var sum int64
		for i, res := range out.Results {
			it, err := item.DecodeItem(res.GetOldItem())
			if err != nil {
				t.Fatal(err)
			}
			v, _ := it["v"].N.Int64()
			sum += v
			t.Logf("item %d read as %d", i+1, v)
		}
		t.Fatalf("the read answered a snapshot summing to %d, want 100 (or a cancellation)", sum)
	}
	for i, res := range out.Results {
		if res.GetError().GetCode() != partitapb.Error_TXN_CONFLICT {
			t.Fatalf("result %d = %v, want TXN_CONFLICT", i, res)
		}
	}
	if got := readV(t, writer, tbl, 1) + "+" + readV(t, writer, tbl, 2); got != "40+60" {
		t.Fatalf("items = %s, want the transfer's 40+60", got)
	}
}

// cancelOnPrepare is a store that cancels a request's context once the
// prepare of key has applied, as a client that disconnects then.
type cancelOnPrepare struct {
	route.Local
	key    []byte
	cancel context.CancelFunc
}

func (c *cancelOnPrepare) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	res, err := c.Local.Propose(ctx, partition, cmd)
	if p := cmd.GetTxnPrepare(); p != nil && bytes.Equal(p.GetKey(), c.key) {
		c.cancel()
	}
	return res, err
}

// A transaction whose caller gives up after a prepare (a client that
// disconnects) still releases its intents and forgets its record: the
// item is free at once, not after the deadline.
func TestTxnCallerGivingUpReleasesIntents(t *testing.T) {
	_, s := startStore(t)
	a := routerOn(t, s, route.LocalStore(s.Store), 8)
	ctx := context.Background()
	if _, err := a.CreateTable(ctx, txnTable()); err != nil {
		t.Fatal(err)
	}
	tbl, err := a.Table(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	first := putAction(a, tbl, txnItem(1, 10), t)
	gone, cancel := context.WithCancel(ctx)
	defer cancel()
	b := routerOn(t, s, &cancelOnPrepare{Local: route.LocalStore(s.Store), key: first.Prepare.GetKey(), cancel: cancel}, 8)
	if out, err := b.TransactWrite(gone, []router.TxnAction{first, putAction(a, tbl, txnItem(2, 20), t)}); err == nil && out.Committed {
		t.Fatalf("a transaction whose caller left committed: %v", out)
	}
	for i := 1; i <= 2; i++ {
		sk, _ := a.StorageKey(tbl, txnKey(i))
		cmd := &partitapb.Command{Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: sk, Item: item.EncodeItem(txnItem(i, 99))}}}
		res, err := a.Write(ctx, tbl, txnKey(i), cmd)
		if err != nil || res.GetError() != nil {
			t.Fatalf("write item %d after the caller left: %v %v, want it free", i, res.GetError(), err)
		}
	}
}

// A coordinator that dies after the commit point, or before it, leaves
// its record behind, which would keep its partition from splitting for
// ever: the sweep (the txn-records job's step) settles it by its items
// and forgets it, leaving no intent and no record.
func TestTxnSweepCollectsLeftRecords(t *testing.T) {
	clock := newTxnClock()
	a, b, tbl, eng := twoRoutersEngine(t, clock)
	ctx := context.Background()
	if out, err := a.TransactCommitted(ctx, []router.TxnAction{putAction(a, tbl, txnItem(1, 10), t), putAction(a, tbl, txnItem(2, 20), t)}); err != nil || !out.Committed {
		t.Fatalf("commit: %v %v", out, err)
	}
	if out, err := a.TransactPrepared(ctx, []router.TxnAction{putAction(a, tbl, txnItem(3, 30), t), putAction(a, tbl, txnItem(4, 40), t)}); err != nil || !out.Prepared() {
		t.Fatalf("prepare: %v %v", out, err)
	}
	records := func() []fsm.TxnRecordEntry {
		t.Helper()
		var all []fsm.TxnRecordEntry
		for _, p := range tbl.GetPartitions() {
			recs, err := fsm.ReadTxnRecords(eng, p.GetId())
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, recs...)
		}
		return all
	}
	left := records()
	if len(left) != 2 {
		t.Fatalf("%d records left, want 2", len(left))
	}
	for _, e := range left {
		if swept, err := b.SweepTxnRecord(ctx, e.ID, e.Record); err != nil || swept {
			t.Fatalf("sweep before the deadline: %v %v", swept, err)
		}
	}
	clock.add(router.TxnDeadline + time.Second)
	for _, e := range left {
		if swept, err := b.SweepTxnRecord(ctx, e.ID, e.Record); err != nil || !swept {
			t.Fatalf("sweep of a %s record: %v %v", e.Record.GetStatus(), swept, err)
		}
	}
	if n := len(records()); n != 0 {
		t.Fatalf("%d records after the sweep", n)
	}
	for _, p := range tbl.GetPartitions() {
		if has, err := fsm.HasIntents(eng, p.GetId()); err != nil || has {
			t.Fatalf("partition %d holds intents after the sweep: %v %v", p.GetId(), has, err)
		}
	}
	for i, want := range map[int]string{1: "10", 2: "20", 3: "absent", 4: "absent"} {
		if got := readV(t, b, tbl, i); got != want {
			t.Fatalf("item %d = %s, want %s", i, got, want)
		}
	}
}
