package router_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/route"
	"github.com/partitadb/partita/router"
)

// TestDeletedTableNotFoundAtOnce: a table is deleted through one router;
// another, whose cached record predates the delete, on a node with no
// replica of the table's partitions left (the delete destroyed them),
// reads and writes its items. Each request ends with TABLE_NOT_FOUND (the
// API's ResourceNotFoundException) instead of retrying "no replica known"
// until the request timeout (10 s). The 5 s deadline only keeps a
// regression from hanging the test: a request that retries until it
// ends with the deadline's error, not TABLE_NOT_FOUND.
func TestDeletedTableNotFoundAtOnce(t *testing.T) {
	_, st := startStore(t)
	a := routerOn(t, st, route.LocalStore(st.Store), 4)
	b := routerOn(t, st, route.LocalStore(st.Store), 4)
	ctx := context.Background()
	if _, err := a.CreateTable(ctx, txnTable()); err != nil {
		t.Fatal(err)
	}
	tbl, err := b.SharedTable(ctx, "t") // b caches the record
	if err != nil {
		t.Fatal(err)
	}
	put := func(i int) *partitapb.Command {
		sk, err := b.StorageKey(tbl, txnKey(i))
		if err != nil {
			t.Fatal(err)
		}
		return &partitapb.Command{Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: sk, Item: item.EncodeItem(txnItem(i, 1))}}}
	}
	if res, err := b.Write(ctx, tbl, txnKey(1), put(1)); err != nil || res.GetError() != nil {
		t.Fatalf("write before the delete: %v %v", err, res.GetError())
	}
	if _, err := a.DeleteTable(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if cached, err := b.SharedTable(ctx, "t"); err != nil || cached.GetId() != tbl.GetId() {
		t.Fatalf("b's cached record after the delete: %v %v, want the deleted table's", cached, err)
	}
	requests := []struct {
		name string
		do   func(ctx context.Context) error
	}{
		{"GetItem", func(ctx context.Context) error { _, err := b.Get(ctx, tbl, txnKey(1), false); return err }},
		{"consistent GetItem", func(ctx context.Context) error { _, err := b.Get(ctx, tbl, txnKey(1), true); return err }},
		{"PutItem", func(ctx context.Context) error { _, err := b.Write(ctx, tbl, txnKey(2), put(2)); return err }},
		{"Query", func(ctx context.Context) error {
			return b.Query(ctx, tbl, router.QuerySpec{PK: txnKey(1)["pk"], Forward: true}, func(item.Item, int) bool { return true })
		}},
		{"Scan", func(ctx context.Context) error {
			return b.Scan(ctx, tbl, router.ScanSpec{}, func(item.Item, int) bool { return true })
		}},
		{"TransactWriteItems", func(ctx context.Context) error {
			_, err := b.TransactWrite(ctx, []router.TxnAction{putAction(b, tbl, txnItem(3, 1), t)})
			return err
		}},
	}
	for _, req := range requests {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := req.do(rctx)
		cancel()
		var perr *partitapb.Error
		if !errors.As(err, &perr) || perr.GetCode() != partitapb.Error_TABLE_NOT_FOUND {
			t.Errorf("%s through a router whose record predates the delete: %v, want TABLE_NOT_FOUND", req.name, err)
		}
	}
	// The request dropped the stale record: the next one reads the
	// directory.
	var perr *partitapb.Error
	if _, err := b.SharedTable(ctx, "t"); !errors.As(err, &perr) || perr.GetCode() != partitapb.Error_TABLE_NOT_FOUND {
		t.Fatalf("b's record after its requests: %v, want TABLE_NOT_FOUND", err)
	}
}
