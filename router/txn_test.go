package router_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
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
	_, s := startStore(t)
	mk := func() *router.Router {
		scfg := route.DefaultConfig()
		scfg.Self, scfg.Local, scfg.Directory = 1, route.LocalStore(s.Store), directory.NewCache()
		sender, err := route.New(scfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg := router.DefaultConfig()
		cfg.Sender, cfg.Host, cfg.PartitionsPerTable, cfg.Now = sender, s, 8, clock.now
		r, err := router.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r.SetClusterVersion(clusterversion.Latest)
		return r
	}
	a, b = mk(), mk()
	if _, err := a.CreateTable(context.Background(), txnTable()); err != nil {
		t.Fatal(err)
	}
	tbl, err := a.Table(context.Background(), "t")
	if err != nil {
		t.Fatal(err)
	}
	return a, b, tbl
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
